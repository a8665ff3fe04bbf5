/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file conf.h  Configuration on libconfig, checked against a schema.
 *
 * Each daemon declares its settings in a schema: path, type, default, range or
 * choices. Loading a file checks every setting in it against the schema, so a
 * misspelt name, a wrong type or a value out of range is refused at start-up
 * with "file:line: setting 'a.b': what was expected", never silently ignored.
 * A daemon started with no file runs on the schema's defaults.
 *
 * Paths use dots between group members and "[]" for the elements of a list of
 * groups: "sip.listen.[].port" is the port of every listener. Getters take the
 * same paths with an index: conf_int(c, "sip.listen.[1].port"). A setting that
 * the file leaves out reads as its default; a list left out reads as the
 * schema's default list (e.g. one listener on 127.0.0.1:5060).
 */
#ifndef SBC_CONF_H
#define SBC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conf_type {
	CONF_BOOL = 1,
	CONF_INT,
	CONF_STR,
	CONF_STRS, /**< array of strings: [ "a", "b" ] */
	CONF_LIST, /**< list of groups: ( { ... }, { ... } ); members are "path.[].name" */
};

struct conf_setting {
	const char *path;
	enum conf_type type;
	/**
	 * Default in libconfig syntax: 60, true, "udp", [ "a" ], ( { port = 5060; } ).
	 * NULL: no default (a string reads as NULL, an int as 0, a list as empty).
	 */
	const char *def;
	int64_t min, max;	    /**< CONF_INT range, inclusive; both 0: any */
	const char *const *choices; /**< CONF_STR allowed values, NULL-terminated; NULL: any */
};

/**
 * A schema: a NULL-terminated array of setting tables (shared + daemon-specific),
 * each ending with an entry whose path is NULL.
 */
struct conf_schema {
	const struct conf_setting *const *tables;
};

struct conf;

/**
 * Loads @p path (NULL: defaults only). On failure returns a negative errno and
 * writes "file:line: ..." into @p err.
 */
int conf_load_file(struct conf **cp, const struct conf_schema *schema, const char *path, char *err,
		   size_t errlen);

/** Like conf_load_file, on a string; @p name stands for the file name in errors. */
int conf_load_string(struct conf **cp, const struct conf_schema *schema, const char *name,
		     const char *text, char *err, size_t errlen);

void conf_free(struct conf *c);

/** The file the configuration came from, or NULL for defaults. */
const char *conf_file(const struct conf *c);

/*
 * Getters. The path must be in the schema with that type (anything else is a
 * programming error and aborts); values were checked when the file was loaded.
 */
bool conf_bool(const struct conf *c, const char *path);
int64_t conf_int(const struct conf *c, const char *path);
/** The string, or NULL when unset with no default. Valid until conf_free. */
const char *conf_str(const struct conf *c, const char *path);
/** Index of the value in the setting's choices. */
int conf_choice(const struct conf *c, const char *path);
/** Number of elements of a CONF_LIST or CONF_STRS setting. */
unsigned conf_count(const struct conf *c, const char *path);
/** Element @p i of a CONF_STRS setting. */
const char *conf_strs_elem(const struct conf *c, const char *path, unsigned i);

/**
 * Formats a semantic error about @p path ("file:line: setting 'path': ...") for
 * checks the schema cannot express (an address that does not parse, two
 * listeners on one port). @return -EINVAL, to be returned by the caller.
 */
int conf_error(const struct conf *c, const char *path, char *err, size_t errlen, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));

#endif
