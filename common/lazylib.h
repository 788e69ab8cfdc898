/*
 * A shared library loaded the first time it is needed, its functions
 * looked up by name into a struct of pointers.  For a library only some
 * nodes use (libcurl for e-mail, libarchive for artifacts): linked, each
 * maps itself and what it depends on into every node at start, which
 * issue 21's memory bound counts.  The package that ships the node
 * depends on (or recommends) it all the same; dpkg-shlibdeps cannot see
 * it, so cmake/package.cmake names it.
 *
 *   static struct my_lib fns;
 *   static const struct lazylib_sym syms[] = {
 *       LAZYLIB_SYM(struct my_lib, open, "lib_open"), ...
 *   };
 *   static struct lazylib lib = LAZYLIB("libx.so.1", "libx1", syms, &fns);
 *   if (lazylib_get(&lib, err, errlen) != 0) ... err says why ...
 *
 * Loaded once for the process, from any thread; a library that could not
 * be loaded is not tried again.  The handle stays open.
 */
#ifndef AGENTFLOW_LAZYLIB_H
#define AGENTFLOW_LAZYLIB_H

#include <stddef.h>

struct lazylib_sym {
	const char	*name;		/* the symbol */
	size_t		 offset;	/* of its pointer in the table */
};

#define LAZYLIB_SYM(type, field, name)	{ (name), offsetof(type, field) }

struct lazylib {
	const char		 *soname;	/* "libcurl.so.4" */
	const char		 *package;	/* Debian's, for the message */
	const struct lazylib_sym *syms;
	size_t			  nsyms;
	void			 *table;	/* each pointer written here */
	int			  tried;
	int			  loaded;
	char			  why[256];
};

#define LAZYLIB(soname, package, syms, table)				\
	{ (soname), (package), (syms), sizeof(syms) / sizeof((syms)[0]),	\
	  (table), 0, 0, "" }

/* 0 once lib's table is filled; -1 with err saying why it cannot be. */
int lazylib_get(struct lazylib *lib, char *err, size_t errlen);

#endif
