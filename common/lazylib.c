/*
 * Libraries loaded on first use (lazylib.h).
 */
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void
load(struct lazylib *lib)
{
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL), *p;

	if (h == NULL) {
		snprintf(lib->why, sizeof(lib->why), "cannot load %s (Debian: "
		    "%s): %s", lib->soname, lib->package, dlerror());
		return;
	}
	for (size_t i = 0; i < lib->nsyms; i++) {
		if ((p = dlsym(h, lib->syms[i].name)) == NULL) {
			snprintf(lib->why, sizeof(lib->why), "%s has no %s",
			    lib->soname, lib->syms[i].name);
			dlclose(h);
			return;
		}
		/* POSIX: a function pointer is set through its bytes
		 * (dlsym's manual). */
		memcpy((char *)lib->table + lib->syms[i].offset, &p, sizeof(p));
	}
	lib->loaded = 1;
}

int
lazylib_get(struct lazylib *lib, char *err, size_t errlen)
{
	int ok;

	pthread_mutex_lock(&lock);
	if (!lib->tried) {
		lib->tried = 1;
		load(lib);
	}
	ok = lib->loaded;
	pthread_mutex_unlock(&lock);
	if (!ok)
		snprintf(err, errlen, "%s", lib->why);
	return ok ? 0 : -1;
}
