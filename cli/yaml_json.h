/*
 * A YAML document read as the JSON value it spells (libyaml's event
 * parser), for definitions written in YAML (`agentflow workflow run
 * backup.yaml`, `schedule add --workflow`).  What JSON can hold and no
 * more: mappings with scalar keys (each once), sequences and scalars.  A
 * plain scalar is null (null, ~, empty), a boolean (true/false), an
 * integer, a number or else a string, as YAML 1.2's core schema reads
 * it; a quoted or block scalar, or one tagged !!str, is a string.
 * Anchors and aliases are refused (one alias can stand for a tree of
 * any size), as are several documents, nesting deeper than
 * YAML_JSON_DEPTH and more than YAML_JSON_NODES values.
 */
#ifndef AGENTFLOW_YAML_JSON_H
#define AGENTFLOW_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

#define YAML_JSON_DEPTH		64
#define YAML_JSON_NODES		100000

/* The value of the YAML text (len bytes; new reference), or NULL with
 * err naming the line and column and what is wrong. */
json_t *yaml_json_load(const char *text, size_t len, char *err,
    size_t errlen);

#endif
