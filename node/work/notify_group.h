/*
 * Grouped notices (notify.h): the alerts of one rule that fire (or
 * resolve) within a channel's group_wait go out as one notice listing
 * them, as Alertmanager's group_wait does.  This file is the pure part:
 * what a group's notice says.  notify.c keeps the groups and their
 * timers.
 *
 * An alert here is the JSON notify.c builds of it (alert_id, rule,
 * severity, state, subject, message, value, threshold, fired_ms,
 * resolved_ms).
 */
#ifndef AGENTFLOW_NOTIFY_GROUP_H
#define AGENTFLOW_NOTIFY_GROUP_H

#include <jansson.h>

#define NOTIFY_GROUP_WAIT_DEFAULT_S	10
#define NOTIFY_GROUP_WAIT_MAX_S		600
#define NOTIFY_GROUP_MAX		64	/* alerts in one notice */
/* The subjects a group's one line lists before "and N more". */
#define NOTIFY_GROUP_SUBJECT_MAX	200

/*
 * One alert that stands for the group alerts (an array of 2 or more of
 * one rule and state) wherever a channel shows one alert (a title, an
 * email's fields): rule and state theirs; severity the highest; subject
 * their subjects joined ("node-3, node-4", cut at
 * NOTIFY_GROUP_SUBJECT_MAX bytes with "and N more"); message "N alerts"
 * and each one's subject and message, a line each; alert_id their ids
 * joined by spaces; fired_ms the earliest, resolved_ms the latest; value
 * and threshold the first's; count N.  A new object.
 */
json_t *notify_group_summary(const json_t *alerts);

/*
 * A webhook's body for the group: {kind: "alert_group", state, node,
 * repeat: false, rule, count, alerts: [...]}.  A new object.
 */
json_t *notify_group_webhook(const char *node, const char *state,
    const json_t *alerts);

#endif
