/*
 * Giving the heap's free memory back to the OS (heap_trim.h).
 */
#include "heap_trim.h"

#include <stdio.h>	/* first: it defines __GLIBC__ */
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

long
heap_trim_private_pages(void)
{
	unsigned long size, resident, shared;
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "%lu %lu %lu", &size, &resident, &shared);
	fclose(f);
	return n == 3 && resident >= shared ? (long)(resident - shared) : -1;
}

int
heap_trim_tick(long *at)
{
	long now = heap_trim_private_pages();

	if (now < 0)
		return 0;
	if (now < *at)
		*at = now;	/* it shrank: grow from here */
	if (now - *at < HEAP_TRIM_GROWTH / sysconf(_SC_PAGESIZE))
		return 0;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
	*at = heap_trim_private_pages();
	return 1;
}
