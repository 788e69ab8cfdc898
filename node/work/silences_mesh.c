/*
 * The join of silences.c and the mesh's view (silences_mesh.h): the
 * words as JSON (silences_word) to and from SilenceUpdate.
 */
#include "silences_mesh.h"

#include <jansson.h>
#include <string.h>

#include "clock.h"
#include "json_check.h"
#include "log.h"
#include "mesh.pb-c.h"
#include "node.h"
#include "silences.h"
#include "sync_silences.h"

#define PB(name)	Agentflow__Mesh__V1__##name

/* w's fields into u (borrowed from w: valid while w lives). */
static void
from_word(const json_t *w, PB(SilenceUpdate) *u)
{
	const json_t *spec = json_object_get(w, "spec_json");

	agentflow__mesh__v1__silence_update__init(u);
	u->id = (char *)json_text_of(w, "id");
	u->spec_json = (char *)(json_is_string(spec) ?
	    json_string_value(spec) : "");
	u->updated_ms = json_u64_of(w, "updated_ms");
	u->author = (char *)json_text_of(w, "author");
	u->deleted = json_is_true(json_object_get(w, "deleted"));
	u->ends_ms = json_u64_of(w, "ends_ms");
	u->principal = (char *)json_text_of(w, "principal");
}

static int
check_cb(const PB(SilenceUpdate) *u, void *arg)
{
	char err[256];

	(void)arg;
	if (u->deleted ? silences_check_removal(u->id, u->author, err,
	    sizeof(err)) == 0 : silences_check(u->id, u->spec_json,
	    strlen(u->spec_json), u->author, u->updated_ms, u->ends_ms,
	    clock_wall_ms(), err, sizeof(err)) == 0)
		return 0;
	log_event(LOG_WARN, "bad silence from the mesh", "{s:s, s:s, s:s}",
	    "silence", u->id, "author", u->author, "error", err);
	return -1;
}

static int
taken_cb(const char *id, void *arg)
{
	struct node *n = arg;

	return sync_silences_get(n->sync, id) != NULL ||
	    sync_silences_claimed(n->sync, id);
}

static void
changed_cb(const PB(SilenceUpdate) *u, void *arg)
{
	struct node *n = arg;

	if (silences_apply(n->silences, u->id, u->deleted ? NULL :
	    u->spec_json, u->updated_ms, u->author, u->ends_ms,
	    clock_wall_ms()) < 0)
		log_event(LOG_WARN, "cannot keep a silence from the mesh",
		    "{s:s, s:s}", "silence", u->id, "author", u->author);
}

void
silences_mesh_start(struct node *n)
{
	json_t *words, *w;
	PB(SilenceUpdate) u;
	size_t i;

	if (n->sync == NULL || n->silences == NULL)
		return;
	words = silences_words(n->silences, clock_wall_ms());
	json_array_foreach(words, i, w) {
		from_word(w, &u);
		sync_silences_seed(n->sync, &u);
	}
	json_decref(words);
	sync_set_silence_hooks(n->sync, check_cb, changed_cb, n);
	silences_set_taken(n->silences, taken_cb, n);
}

void
silences_mesh_stop(struct node *n)
{
	if (n->silences != NULL)
		silences_set_taken(n->silences, NULL, NULL);
	if (n->sync != NULL)
		sync_set_silence_hooks(n->sync, NULL, NULL, NULL);
}

void
silences_mesh_emit(struct node *n, const char *id)
{
	json_t *w;
	PB(SilenceUpdate) u;

	if (n->sync == NULL ||
	    (w = silences_word(n->silences, id, clock_wall_ms())) == NULL)
		return;
	from_word(w, &u);
	(void)sync_emit_silence(n->sync, &u);	/* logged */
	json_decref(w);
}
