#ifndef TALLY_H
#define TALLY_H
#include <stddef.h>
/* Counts the words in s. */
size_t tally_words(const char *s);
/* Counts the lines in s. */
size_t tally_lines(const char *s);
#endif
