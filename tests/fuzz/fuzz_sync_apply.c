/*
 * fuzz_sync_apply: what a node does with the frames a peer sends once the
 * link is up (node/work/work.c work_frame, node/mesh/links.c for Hello), on a real
 * store: sync_link_up for a Hello, commands_frame for Command and
 * CommandResult, sync_frame for the rest.  No links: sync and commands
 * send nothing (fuzz_node.h).
 *
 * Input: records of [peer: 1 byte][length: 2 bytes, little-endian][frame],
 * so one input can carry a sequence (event 1, event 2, a snapshot request
 * answered from the log...).  The peer byte picks one of four node ids,
 * ours included.  A record's frame goes through frame_codec_decode first,
 * as links.c does; what it refuses never reaches sync.
 *
 * After each input: the loop runs what is ready (our batch flush), and the
 * JSON views the API serves of that state are rendered.  Every event
 * logged is rendered as the API's event feed does (sync_json_event_body).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_codec.h"
#include "fuzz_node.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_node node;

static const char *const peers[] = { "peer-a", "peer-b.example", "p9",
    FUZZ_SELF_ID };

static void
render(json_t *j)
{
	char *text;

	if (j == NULL)
		return;
	if ((text = json_dumps(j, JSON_COMPACT)) == NULL)
		abort();	/* everything sync hands the API must serialize */
	free(text);
	json_decref(j);
}

static void
applied(const struct store_event *row, void *arg)
{
	(void)arg;
	render(sync_json_event_body(row->origin, row->kind, row->body,
	    row->body_len));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	node.applied = applied;
	fuzz_node_init(&node);
	return 0;
}

static void
deliver(const char *peer, const Agentflow__Mesh__V1__Frame *f)
{
	switch (f->body_case) {
	case AGENTFLOW__MESH__V1__FRAME__BODY_HELLO:
		sync_link_up(peer, f->hello, node.sync);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND:
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT:
		commands_frame(node.commands, peer, f);
		break;
	default:
		sync_frame(peer, f, node.sync);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Agentflow__Mesh__V1__Cursor **cursors;
	json_t *ids, *id;
	size_t i;

	while (size >= 3) {
		const char *peer = peers[data[0] % (sizeof(peers) / sizeof(peers[0]))];
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		Agentflow__Mesh__V1__Frame *f = NULL;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (frame_codec_decode(data, len, &f, NULL) == FRAME_CODEC_OK) {
			deliver(peer, f);
			frame_codec_free(f);
		}
		data += len;
		size -= len;
	}
	fuzz_node_pump(&node);

	/* The views the API and the dashboard read. */
	(void)sync_cursors(&cursors, node.sync);
	render(sync_json_counters(node.sync));
	render(sync_json_remote(node.sync, 1));
	ids = routing_select(sync_routing(node.sync), NULL);
	json_array_foreach(ids, i, id)
		render(sync_json_origin(node.sync, json_string_value(id), 1));
	json_decref(ids);
	render(commands_list(node.commands, 8));
	render(commands_counters(node.commands));
	fuzz_node_next(&node);
	return 0;
}
