#ifndef GREET_H
#define GREET_H
/* Writes "Hello, <who>!" into buf; returns the length written. */
int greet_format(char *buf, int size, const char *who);
const char *greet_version(void);
#endif
