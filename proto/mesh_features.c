/*
 * The feature names of Hello.features (mesh_features.h), one table.
 */
#include "mesh_features.h"

#include <string.h>

#include "mesh.pb-c.h"

static const struct feature {
	const char	*name;
	int		 base;		/* spoken by every peer before features */
} features[] = {
	{ "events", 1 },		/* Frame.events, Event kinds 10-14 */
	{ "snapshots", 1 },		/* Frame.snapshot_request, snapshot */
	{ "commands", 1 },		/* Frame.command, command_result */
	{ "artifacts", 0 },		/* Frame.artifact_request, artifact_chunk */
	{ "paced_status", 0 },		/* statuses paced (NodeStatus.idle_ms):
					 * a peer without it gets every sample */
#ifndef AGENTFLOW_TEST_NEAR_RING	/* test build: an older node's ways */
	{ "spread_ring", 0 },		/* --max-links picks by the spread
					 * ring (node/mesh/ring.h) */
	{ "pull_catchup", 0 },		/* asks for its catch-up at link-up
					 * (node/mesh/sync_pull.c) */
	{ "one_pinger", 0 },		/* only the end whose id sorts first
					 * pings (node/mesh/links.c) */
	{ "sparse_statuses", 0 },	/* takes a status past the statuses
					 * it lacks (NodeStatus.statuses_from):
					 * replays leave superseded ones out */
#endif
#ifdef AGENTFLOW_TEST_EXTRA_KIND
	{ "test_extra", 0 },		/* test build: its extra body and kind */
#endif
};

#define NFEATURES	(sizeof(features) / sizeof(features[0]))

_Static_assert(NFEATURES <= MESH_FEATURES_MAX && NFEATURES <= 32,
    "a feature mask is an unsigned");

static const char *const *
names(void)
{
	static const char *list[NFEATURES];

	for (size_t i = 0; i < NFEATURES; i++)
		list[i] = features[i].name;
	return list;
}

size_t
mesh_features_ours(const char *const **out)
{
	*out = names();
	return NFEATURES;
}

const char *
mesh_features_of_body(int body_case)
{
	switch (body_case) {
	case AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS:
		return "events";
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST:
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT:
		return "snapshots";
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND:
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT:
		return "commands";
	case AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST:
	case AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK:
		return "artifacts";
	case AGENTFLOW__MESH__V1__FRAME__BODY_OFFER:
		return "pull_catchup";
	default:
		return NULL;
	}
}

int
mesh_features_index(const char *name)
{
	for (size_t i = 0; i < NFEATURES; i++)
		if (strcmp(features[i].name, name) == 0)
			return (int)i;
	return -1;
}

unsigned
mesh_features_mask(char *const *names_in, size_t n)
{
	unsigned mask = 0;
	int i;

	if (n == 0) {
		for (size_t k = 0; k < NFEATURES; k++)
			if (features[k].base)
				mask |= 1u << k;
		return mask;
	}
	for (size_t k = 0; k < n; k++)
		if ((i = mesh_features_index(names_in[k])) >= 0)
			mask |= 1u << i;
	return mask;
}

int
mesh_features_has(unsigned mask, const char *feature)
{
	int i;

	if (feature == NULL)
		return 1;
	i = mesh_features_index(feature);
	return i >= 0 && (mask & (1u << i)) != 0;
}
