/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Configuration: libconfig parses, this file checks and answers.
 *
 * Three libconfig trees back a `struct conf`:
 *   user       the file as written (empty without a file);
 *   defaults   the schema's defaults for settings outside lists, lists included
 *              as their default elements ("sip.listen" = ( { ... } ));
 *   templates  the defaults of list members, stored with the "[]" segments
 *              removed ("sip.listen.[].port" is found at "sip.listen.port").
 * A getter looks in the user tree, then in the defaults (unless the user wrote
 * the enclosing list, whose elements then take member defaults only), then in
 * the templates.
 *
 * Checking walks the user tree and stops descending at the first setting the
 * schema does not know, so its recursion is bounded by the schema's depth, not
 * by the input's.
 */
#include "conf.h"

#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "str.h"

#define CONF_PATH_MAX 256

struct conf {
	config_t user;
	config_t defaults;
	config_t templates;
	const struct conf_schema *schema;
	char *file;
};

/* --- schema ------------------------------------------------------------ */

/* Visits every setting of every table of @p schema. */
#define SCHEMA_FOREACH(schema, s)                                                      \
	for (const struct conf_setting *const *tbl_ = (schema)->tables; *tbl_; tbl_++) \
		for ((s) = *tbl_; (s)->path; (s)++)

static const struct conf_setting *schema_find(const struct conf_schema *schema, const char *pattern)
{
	const struct conf_setting *s;

	SCHEMA_FOREACH(schema, s)
	{
		if (strcmp(s->path, pattern) == 0)
			return s;
	}
	return NULL;
}

/* True if @p pattern names a group that contains schema settings. */
static bool schema_is_group(const struct conf_schema *schema, const char *pattern)
{
	size_t len = strlen(pattern);
	const struct conf_setting *s;

	SCHEMA_FOREACH(schema, s)
	{
		if (len == 0 || (strncmp(s->path, pattern, len) == 0 && s->path[len] == '.'))
			return true;
	}
	return false;
}

/* "sip.listen.[2].port" -> "sip.listen.[].port" */
static void path_to_pattern(const char *path, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = path; *p && o + 1 < size; p++) {
		out[o++] = *p;
		if (*p == '[') {
			while (p[1] && p[1] != ']')
				p++;
		}
	}
	out[o] = '\0';
}

/* "sip.listen.[2].port" -> "sip.listen.port" (where templates keep member defaults) */
static void path_to_template(const char *path, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = path; *p && o + 1 < size; p++) {
		if (*p == '[') {
			while (*p && *p != ']')
				p++;
			if (!*p)
				break;
			if (p[1] == '.')
				p++;
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

/* --- building the default trees ----------------------------------------- */

static int copy_setting(config_setting_t *parent, const char *name, const config_setting_t *src)
{
	int type = config_setting_type(src);
	config_setting_t *dst = config_setting_add(parent, name, type);

	if (!dst)
		return -EINVAL;
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return config_setting_set_int64(dst, config_setting_get_int64(src)) ? 0 : -EINVAL;
	case CONFIG_TYPE_BOOL:
		return config_setting_set_bool(dst, config_setting_get_bool(src)) ? 0 : -EINVAL;
	case CONFIG_TYPE_FLOAT:
		return config_setting_set_float(dst, config_setting_get_float(src)) ? 0 : -EINVAL;
	case CONFIG_TYPE_STRING:
		return config_setting_set_string(dst, config_setting_get_string(src)) ? 0 : -EINVAL;
	default:
		for (int i = 0; i < config_setting_length(src); i++) {
			const config_setting_t *e = config_setting_get_elem(src, (unsigned)i);
			int rc = copy_setting(
			    dst, type == CONFIG_TYPE_GROUP ? config_setting_name(e) : NULL, e);
			if (rc)
				return rc;
		}
		return 0;
	}
}

/* Creates the groups of @p path but its last segment; returns the innermost. */
static config_setting_t *ensure_groups(config_t *cfg, const char *path, const char **leaf)
{
	config_setting_t *g = config_root_setting(cfg);
	char seg[CONF_PATH_MAX];
	const char *p = path, *dot;

	while ((dot = strchr(p, '.')) != NULL) {
		size_t n = (size_t)(dot - p);
		config_setting_t *m;

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		m = config_setting_get_member(g, seg);
		if (!m)
			m = config_setting_add(g, seg, CONFIG_TYPE_GROUP);
		if (!m || config_setting_type(m) != CONFIG_TYPE_GROUP)
			return NULL;
		g = m;
		p = dot + 1;
	}
	*leaf = p;
	return g;
}

/* Parses the default text of @p s and stores it at @p path in @p cfg. */
static int add_default(config_t *cfg, const char *path, const struct conf_setting *s)
{
	char text[4096];
	config_t tmp;
	config_setting_t *parent;
	const char *leaf;
	int rc = -EINVAL;

	if (snprintf(text, sizeof(text), "v = %s;", s->def) >= (int)sizeof(text))
		return -ENAMETOOLONG;
	config_init(&tmp);
	if (!config_read_string(&tmp, text)) {
		log_err("schema default of '%s' does not parse: %s", s->path,
			config_error_text(&tmp));
		goto out;
	}
	parent = ensure_groups(cfg, path, &leaf);
	if (parent)
		rc = copy_setting(parent, leaf, config_lookup(&tmp, "v"));
out:
	config_destroy(&tmp);
	return rc;
}

static int build_defaults(struct conf *c)
{
	const struct conf_setting *s;

	SCHEMA_FOREACH(c->schema, s)
	{
		char tpl[CONF_PATH_MAX];
		int rc;

		if (!s->def)
			continue;
		if (strstr(s->path, "[]")) {
			path_to_template(s->path, tpl, sizeof(tpl));
			rc = add_default(&c->templates, tpl, s);
		} else {
			rc = add_default(&c->defaults, s->path, s);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* --- checking the user's file -------------------------------------------- */

struct check {
	const struct conf *c;
	char *err;
	size_t errlen;
};

static int check_fail(struct check *ck, const config_setting_t *s, const char *path,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int check_fail(struct check *ck, const config_setting_t *s, const char *path,
		      const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ck->err, ck->errlen, "%s:%u: setting '%s': %s",
		 file ? file : (ck->c->file ? ck->c->file : "<config>"),
		 config_setting_source_line(s), path, what);
	return -EINVAL;
}

static const char *type_expectation(enum conf_type type)
{
	switch (type) {
	case CONF_BOOL:
		return "expected true or false";
	case CONF_INT:
		return "expected an integer";
	case CONF_STR:
		return "expected a string in double quotes";
	case CONF_STRS:
		return "expected an array of strings [ \"a\", \"b\" ]";
	case CONF_LIST:
		return "expected a list of groups ( { ... }, { ... } )";
	}
	return "unexpected type";
}

static int check_choice(struct check *ck, const config_setting_t *s, const char *path,
			const struct conf_setting *def)
{
	const char *v = config_setting_get_string(s);
	char list[256];
	size_t n = 0;

	for (const char *const *ch = def->choices; *ch; ch++) {
		if (strcmp(v, *ch) == 0)
			return 0;
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				      ch == def->choices ? "" : ", ", *ch);
		if (n >= sizeof(list))
			break;
	}
	return check_fail(ck, s, path, "expected one of %s, got \"%s\"", list, v);
}

static int check_group(struct check *ck, const config_setting_t *group, const char *path,
		       const char *pattern);

static int check_value(struct check *ck, const config_setting_t *s, const char *path,
		       const char *pattern, const struct conf_setting *def)
{
	int type = config_setting_type(s);

	switch (def->type) {
	case CONF_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			return check_fail(ck, s, path, "%s", type_expectation(def->type));
		return 0;
	case CONF_INT: {
		long long v;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			return check_fail(ck, s, path, "%s", type_expectation(def->type));
		v = config_setting_get_int64(s);
		if ((def->min || def->max) && (v < def->min || v > def->max))
			return check_fail(ck, s, path,
					  "expected an integer from %lld to %lld, got %lld",
					  (long long)def->min, (long long)def->max, v);
		return 0;
	}
	case CONF_STR:
		if (type != CONFIG_TYPE_STRING)
			return check_fail(ck, s, path, "%s", type_expectation(def->type));
		return def->choices ? check_choice(ck, s, path, def) : 0;
	case CONF_STRS:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return check_fail(ck, s, path, "%s", type_expectation(def->type));
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return check_fail(ck, e, path, "element %d: expected a string", i);
		}
		return 0;
	case CONF_LIST:
		if (type != CONFIG_TYPE_LIST)
			return check_fail(ck, s, path, "%s", type_expectation(def->type));
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			char epath[CONF_PATH_MAX], epattern[CONF_PATH_MAX];
			int rc;

			if (snprintf(epath, sizeof(epath), "%s.[%d]", path, i) >=
				(int)sizeof(epath) ||
			    snprintf(epattern, sizeof(epattern), "%s.[]", pattern) >=
				(int)sizeof(epattern))
				return check_fail(ck, e, path, "setting path too long");
			if (config_setting_type(e) != CONFIG_TYPE_GROUP)
				return check_fail(ck, e, epath, "expected a group { ... }");
			rc = check_group(ck, e, epath, epattern);
			if (rc)
				return rc;
		}
		return 0;
	}
	return check_fail(ck, s, path, "unsupported schema type");
}

static int check_group(struct check *ck, const config_setting_t *group, const char *path,
		       const char *pattern)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		char spath[CONF_PATH_MAX], spattern[CONF_PATH_MAX];
		const struct conf_setting *def;
		int rc;

		if (snprintf(spath, sizeof(spath), "%s%s%s", path, *path ? "." : "", name) >=
			(int)sizeof(spath) ||
		    snprintf(spattern, sizeof(spattern), "%s%s%s", pattern, *pattern ? "." : "",
			     name) >= (int)sizeof(spattern))
			return check_fail(ck, s, path, "setting path too long");

		def = schema_find(ck->c->schema, spattern);
		if (def) {
			rc = check_value(ck, s, spath, spattern, def);
		} else if (schema_is_group(ck->c->schema, spattern)) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP)
				return check_fail(ck, s, spath, "expected a group { ... }");
			rc = check_group(ck, s, spath, spattern);
		} else {
			const char *file = config_setting_source_file(s);

			snprintf(ck->err, ck->errlen, "%s:%u: unknown setting '%s'",
				 file ? file : (ck->c->file ? ck->c->file : "<config>"),
				 config_setting_source_line(s), spath);
			return -EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* --- loading ------------------------------------------------------------- */

static int conf_new(struct conf **cp, const struct conf_schema *schema, const char *file)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	config_init(&c->user);
	config_init(&c->defaults);
	config_init(&c->templates);
	c->schema = schema;
	if (file && !(c->file = strdup(file))) {
		conf_free(c);
		return -ENOMEM;
	}
	*cp = c;
	return 0;
}

static int conf_finish(struct conf *c, bool parsed, char *err, size_t errlen)
{
	struct check ck = { .c = c, .err = err, .errlen = errlen };
	int rc;

	if (!parsed) {
		const char *file = config_error_file(&c->user);

		snprintf(err, errlen, "%s:%d: %s", file ? file : (c->file ? c->file : "<config>"),
			 config_error_line(&c->user), config_error_text(&c->user));
		return -EINVAL;
	}
	rc = build_defaults(c);
	if (rc) {
		snprintf(err, errlen, "internal error: the built-in schema defaults are invalid");
		return rc;
	}
	return check_group(&ck, config_root_setting(&c->user), "", "");
}

int conf_load_file(struct conf **cp, const struct conf_schema *schema, const char *path, char *err,
		   size_t errlen)
{
	struct conf *c;
	bool parsed = true;
	int rc;

	rc = conf_new(&c, schema, path);
	if (rc)
		return rc;
	if (path) {
		char dir[PATH_MAX];

		/* @include "x.conf" is relative to the including file's directory. */
		strv_copy(strv_cstr(path), dir, sizeof(dir));
		config_set_include_dir(&c->user, dirname(dir));
		errno = 0;
		parsed = config_read_file(&c->user, path) == CONFIG_TRUE;
		if (!parsed && config_error_type(&c->user) == CONFIG_ERR_FILE_IO) {
			rc = errno ? -errno : -EIO;
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
			conf_free(c);
			return rc;
		}
	}
	rc = conf_finish(c, parsed, err, errlen);
	if (rc) {
		conf_free(c);
		return rc;
	}
	*cp = c;
	return 0;
}

int conf_load_string(struct conf **cp, const struct conf_schema *schema, const char *name,
		     const char *text, char *err, size_t errlen)
{
	struct conf *c;
	int rc;

	rc = conf_new(&c, schema, name);
	if (rc)
		return rc;
	rc = conf_finish(c, config_read_string(&c->user, text) == CONFIG_TRUE, err, errlen);
	if (rc) {
		conf_free(c);
		return rc;
	}
	*cp = c;
	return 0;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	config_destroy(&c->user);
	config_destroy(&c->defaults);
	config_destroy(&c->templates);
	free(c->file);
	free(c);
}

const char *conf_file(const struct conf *c)
{
	return c->file;
}

/* --- getters ------------------------------------------------------------- */

static const struct conf_setting *getter_schema(const struct conf *c, const char *path,
						enum conf_type type)
{
	char pattern[CONF_PATH_MAX];
	const struct conf_setting *def;

	path_to_pattern(path, pattern, sizeof(pattern));
	def = schema_find(c->schema, pattern);
	if (!def || def->type != type) {
		log_err("BUG: configuration setting '%s' is not in the schema as a %d", path, type);
		abort();
	}
	return def;
}

/* The path of the list that encloses @p path's first element, or false. */
static bool enclosing_list(const char *path, char *out, size_t size)
{
	const char *br = strstr(path, ".[");
	size_t n;

	if (!br)
		return false;
	n = (size_t)(br - path);
	if (n >= size)
		return false;
	memcpy(out, path, n);
	out[n] = '\0';
	return true;
}

static const config_setting_t *lookup(const struct conf *c, const char *path)
{
	const config_setting_t *s = config_lookup(&c->user, path);
	char list[CONF_PATH_MAX], tpl[CONF_PATH_MAX];

	if (s)
		return s;
	if (!enclosing_list(path, list, sizeof(list)))
		return config_lookup(&c->defaults, path);
	/* A list in the file replaces the default list: its members default one by one. */
	if (!config_lookup(&c->user, list)) {
		s = config_lookup(&c->defaults, path);
		if (s)
			return s;
	}
	path_to_template(path, tpl, sizeof(tpl));
	return config_lookup(&c->templates, tpl);
}

bool conf_bool(const struct conf *c, const char *path)
{
	const config_setting_t *s;

	getter_schema(c, path, CONF_BOOL);
	s = lookup(c, path);
	return s ? config_setting_get_bool(s) : false;
}

int64_t conf_int(const struct conf *c, const char *path)
{
	const config_setting_t *s;

	getter_schema(c, path, CONF_INT);
	s = lookup(c, path);
	return s ? config_setting_get_int64(s) : 0;
}

const char *conf_str(const struct conf *c, const char *path)
{
	const config_setting_t *s;

	getter_schema(c, path, CONF_STR);
	s = lookup(c, path);
	return s ? config_setting_get_string(s) : NULL;
}

int conf_choice(const struct conf *c, const char *path)
{
	const struct conf_setting *def = getter_schema(c, path, CONF_STR);
	const config_setting_t *s = lookup(c, path);
	const char *v = s ? config_setting_get_string(s) : NULL;

	if (!def->choices || !v)
		return -1;
	for (int i = 0; def->choices[i]; i++) {
		if (strcmp(def->choices[i], v) == 0)
			return i;
	}
	return -1;
}

unsigned conf_count(const struct conf *c, const char *path)
{
	char pattern[CONF_PATH_MAX];
	const struct conf_setting *def;
	const config_setting_t *s;

	path_to_pattern(path, pattern, sizeof(pattern));
	def = schema_find(c->schema, pattern);
	if (!def || (def->type != CONF_LIST && def->type != CONF_STRS)) {
		log_err("BUG: configuration setting '%s' is not a list in the schema", path);
		abort();
	}
	s = lookup(c, path);
	return s ? (unsigned)config_setting_length(s) : 0;
}

const char *conf_strs_elem(const struct conf *c, const char *path, unsigned i)
{
	const config_setting_t *s;

	getter_schema(c, path, CONF_STRS);
	s = lookup(c, path);
	return s ? config_setting_get_string_elem(s, i) : NULL;
}

int conf_error(const struct conf *c, const char *path, char *err, size_t errlen, const char *fmt,
	       ...)
{
	const config_setting_t *s = config_lookup(&c->user, path);
	const char *file = s ? config_setting_source_file(s) : NULL;
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (s)
		snprintf(err, errlen, "%s:%u: setting '%s': %s",
			 file ? file : (c->file ? c->file : "<config>"),
			 config_setting_source_line(s), path, what);
	else
		snprintf(err, errlen, "%s: setting '%s' (default): %s",
			 c->file ? c->file : "<defaults>", path, what);
	return -EINVAL;
}
