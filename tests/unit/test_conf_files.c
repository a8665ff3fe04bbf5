/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf/sbc.conf and conf/rtpengine.conf are the daemons' documentation: they
 * must load cleanly, set every setting that has a default to exactly that
 * default, and put a comment above every setting (or, for list members and
 * settings without a default, name them in a comment).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "common/conf.h"
#include "rtpengine/rtpengine_conf.h"
#include "sbc/sbc_conf.h"

#define FOREACH_SETTING(schema, s)                                                     \
	for (const struct conf_setting *const *tbl_ = (schema)->tables; *tbl_; tbl_++) \
		for ((s) = *tbl_; (s)->path; (s)++)

static char text[65536];

static void read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
}

static const char *last_segment(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? dot + 1 : path;
}

/* The line of the file that sets @p name ("name =" after indentation), or NULL. */
static const char *find_setting_line(const char *name)
{
	size_t len = strlen(name);

	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *p = line + strspn(line, " \t");

		if (strncmp(p, name, len) == 0 && (p[len] == ' ' || p[len] == '=' || p[len] == ':'))
			return line;
	}
	return NULL;
}

static bool previous_line_is_comment(const char *line)
{
	const char *end, *start;

	if (line == text)
		return false;
	end = line - 1; /* the '\n' ending the previous line */
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	start += strspn(start, " \t");
	return *start == '#';
}

/* Some comment line mentions @p word. */
static bool comment_mentions(const char *word)
{
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *p = line + strspn(line, " \t");
		const char *nl = strchr(p, '\n');
		const char *hit;

		if (*p != '#')
			continue;
		hit = strstr(p, word);
		if (hit && (!nl || hit < nl))
			return true;
	}
	return false;
}

static void assert_same_value(const struct conf *file, const struct conf *defaults,
			      const struct conf_setting *s, const char *path)
{
	switch (s->type) {
	case CONF_BOOL:
		assert_int_equal(conf_bool(file, path), conf_bool(defaults, path));
		break;
	case CONF_INT:
		assert_int_equal(conf_int(file, path), conf_int(defaults, path));
		break;
	case CONF_STR:
		if (conf_str(file, path) || conf_str(defaults, path))
			assert_string_equal(conf_str(file, path), conf_str(defaults, path));
		break;
	case CONF_STRS:
		assert_int_equal(conf_count(file, path), conf_count(defaults, path));
		for (unsigned i = 0; i < conf_count(file, path); i++)
			assert_string_equal(conf_strs_elem(file, path, i),
					    conf_strs_elem(defaults, path, i));
		break;
	case CONF_LIST:
		assert_int_equal(conf_count(file, path), conf_count(defaults, path));
		break;
	}
}

/* Compares every member of every element of default list @p list. */
static void assert_same_list(const struct conf *file, const struct conf *defaults,
			     const struct conf_schema *schema, const struct conf_setting *list)
{
	const struct conf_setting *m;
	size_t len = strlen(list->path);

	for (unsigned i = 0; i < conf_count(defaults, list->path); i++) {
		FOREACH_SETTING(schema, m)
		{
			char path[256];

			if (strncmp(m->path, list->path, len) != 0 ||
			    strncmp(m->path + len, ".[].", 4))
				continue;
			if (m->type == CONF_LIST || strstr(m->path + len + 4, "[]"))
				continue;
			snprintf(path, sizeof(path), "%s.[%u].%s", list->path, i,
				 m->path + len + 4);
			assert_same_value(file, defaults, m, path);
		}
	}
}

static void check_documented(const char *file_path, const struct conf_schema *schema)
{
	const struct conf_setting *s;
	struct conf *file, *defaults;
	char err[512];
	config_t raw;

	if (conf_load_file(&file, schema, file_path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(conf_load_file(&defaults, schema, NULL, err, sizeof(err)), 0);
	read_text(file_path);
	config_init(&raw);
	assert_int_equal(config_read_file(&raw, file_path), CONFIG_TRUE);

	FOREACH_SETTING(schema, s)
	{
		const char *name = last_segment(s->path);

		if (strstr(s->path, "[]")) {
			if (!comment_mentions(name))
				fail_msg("%s: list member '%s' is not documented", file_path,
					 s->path);
			continue;
		}
		if (!s->def) {
			if (!comment_mentions(name))
				fail_msg("%s: setting '%s' is not documented", file_path, s->path);
			continue;
		}
		if (!config_lookup(&raw, s->path))
			fail_msg("%s: setting '%s' is missing (write it with its default)",
				 file_path, s->path);
		const char *line = find_setting_line(name);
		if (!line || !previous_line_is_comment(line))
			fail_msg("%s: setting '%s' has no comment above it", file_path, s->path);
		assert_same_value(file, defaults, s, s->path);
		if (s->type == CONF_LIST)
			assert_same_list(file, defaults, schema, s);
	}
	config_destroy(&raw);
	conf_free(file);
	conf_free(defaults);
}

static void test_sbc_conf_documents_every_setting(void **state)
{
	struct sbc_conf cfg;
	struct conf *c;
	char err[512];

	(void)state;
	check_documented("../../conf/sbc.conf", &sbc_conf_schema);
	assert_int_equal(
	    conf_load_file(&c, &sbc_conf_schema, "../../conf/sbc.conf", err, sizeof(err)), 0);
	if (sbc_conf_read(&cfg, c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.nlisten, 1);
	assert_int_equal(sa_port(&cfg.listen[0].opts.addr), 5060);
	sbc_conf_clear(&cfg);
	conf_free(c);
}

static void test_rtpengine_conf_documents_every_setting(void **state)
{
	struct rtpengine_conf cfg;
	struct conf *c;
	char err[512];

	(void)state;
	check_documented("../../conf/rtpengine.conf", &rtpengine_conf_schema);
	assert_int_equal(conf_load_file(&c, &rtpengine_conf_schema, "../../conf/rtpengine.conf",
					err, sizeof(err)),
			 0);
	if (rtpengine_conf_read(&cfg, c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.nng, 1);
	assert_int_equal(sa_port(&cfg.ng[0]), 2223);
	conf_free(c);
}

static void test_sbc_semantic_errors(void **state)
{
	struct sbc_conf cfg;
	struct conf *c;
	char err[512];

	(void)state;
	assert_int_equal(
	    conf_load_string(&c, &sbc_conf_schema, "s.conf",
			     "sip: {\n listen = (\n  { address = \"10.0.0.300\"; }\n );\n};\n", err,
			     sizeof(err)),
	    0);
	assert_int_equal(sbc_conf_read(&cfg, c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "s.conf:3: setting 'sip.listen.[0].address': expected an IPv4 or "
				 "IPv6 address without port, got \"10.0.0.300\"");
	conf_free(c);

	assert_int_equal(
	    conf_load_string(&c, &sbc_conf_schema, "s.conf",
			     "sip: { listen = (\n { port = 5062; },\n { port = 5062; }\n); };\n",
			     err, sizeof(err)),
	    0);
	assert_int_equal(sbc_conf_read(&cfg, c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "s.conf:3: setting 'sip.listen.[1].port': listener 0 uses the same "
			    "address and port");
	conf_free(c);

	assert_int_equal(conf_load_string(&c, &sbc_conf_schema, "s.conf",
					  "sip: { listen = (\n { address = \"0.0.0.0\";\n"
					  "   advertise = \"0.0.0.0:5060\"; }\n); };\n",
					  err, sizeof(err)),
			 0);
	assert_int_equal(sbc_conf_read(&cfg, c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "s.conf:3: setting 'sip.listen.[0].advertise': expected an "
				 "address[:port] of the listener's family, not a wildcard, got "
				 "\"0.0.0.0:5060\"");
	conf_free(c);

	assert_int_equal(conf_load_string(&c, &sbc_conf_schema, "s.conf",
					  "sip: { listen = (); };\n", err, sizeof(err)),
			 0);
	assert_int_equal(sbc_conf_read(&cfg, c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "s.conf:1: setting 'sip.listen': expected 1 to 16 listeners, got 0");
	conf_free(c);
}

static void test_rtpengine_semantic_errors(void **state)
{
	struct rtpengine_conf cfg;
	struct conf *c;
	char err[512];

	(void)state;
	assert_int_equal(conf_load_string(&c, &rtpengine_conf_schema, "r.conf",
					  "ng: { listen = [ \"127.0.0.1:99999\" ]; };\n", err,
					  sizeof(err)),
			 0);
	assert_int_equal(rtpengine_conf_read(&cfg, c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "r.conf:1: setting 'ng.listen': element 0: expected address[:port], "
			    "got \"127.0.0.1:99999\"");
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbc_conf_documents_every_setting),
		cmocka_unit_test(test_rtpengine_conf_documents_every_setting),
		cmocka_unit_test(test_sbc_semantic_errors),
		cmocka_unit_test(test_rtpengine_semantic_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
