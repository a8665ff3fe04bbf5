/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"

static const char *const transports[] = { "udp", "tcp", "tls", NULL };

static const struct conf_setting test_settings[] = {
	{ .path = "log.level", .type = CONF_STR, .def = "\"info\"" },
	{ .path = "verbose", .type = CONF_BOOL, .def = "false" },
	{ .path = "limits.max_calls", .type = CONF_INT, .def = "1000", .min = 1, .max = 100000 },
	{ .path = "limits.big", .type = CONF_INT, .def = "5000000000L" },
	{ .path = "limits.nodefault", .type = CONF_STR },
	{ .path = "names", .type = CONF_STRS, .def = "[ \"a\", \"b\" ]" },
	{ .path = "listen",
	  .type = CONF_LIST,
	  .def = "( { transport = \"udp\"; port = 5060; }, { transport = \"tcp\"; } )" },
	{ .path = "listen.[].transport",
	  .type = CONF_STR,
	  .def = "\"udp\"",
	  .choices = transports },
	{ .path = "listen.[].port", .type = CONF_INT, .def = "5070", .min = 1, .max = 65535 },
	{ .path = "listen.[].tls.cert", .type = CONF_STR, .def = "\"\"" },
	{ .path = "routes", .type = CONF_LIST },
	{ .path = "routes.[].prefix", .type = CONF_STR },
	{ .path = "routes.[].weight", .type = CONF_INT, .def = "1", .min = 0, .max = 100 },
	{ .path = NULL },
};

static const struct conf_setting *const test_tables[] = { test_settings, NULL };
static const struct conf_schema test_schema = { .tables = test_tables };

static struct conf *load_ok(const char *text)
{
	char err[512] = "";
	struct conf *c = NULL;
	int rc = conf_load_string(&c, &test_schema, "test.conf", text, err, sizeof(err));

	if (rc)
		fail_msg("unexpected error: %s", err);
	return c;
}

/* Loads @p text expecting a failure whose message is exactly @p want. */
static void load_fails(const char *text, const char *want)
{
	char err[512] = "";
	struct conf *c = NULL;

	assert_int_equal(conf_load_string(&c, &test_schema, "test.conf", text, err, sizeof(err)),
			 -EINVAL);
	assert_null(c);
	assert_string_equal(err, want);
}

static void test_defaults_without_file(void **state)
{
	char err[256];
	struct conf *c;

	(void)state;
	assert_int_equal(conf_load_file(&c, &test_schema, NULL, err, sizeof(err)), 0);
	assert_null(conf_file(c));
	assert_string_equal(conf_str(c, "log.level"), "info");
	assert_false(conf_bool(c, "verbose"));
	assert_int_equal(conf_int(c, "limits.max_calls"), 1000);
	assert_true(conf_int(c, "limits.big") == 5000000000LL);
	assert_null(conf_str(c, "limits.nodefault"));
	assert_int_equal(conf_count(c, "names"), 2);
	assert_string_equal(conf_strs_elem(c, "names", 1), "b");
	/* the default list, its members' own values, then member defaults */
	assert_int_equal(conf_count(c, "listen"), 2);
	assert_string_equal(conf_str(c, "listen.[0].transport"), "udp");
	assert_int_equal(conf_int(c, "listen.[0].port"), 5060);
	assert_string_equal(conf_str(c, "listen.[1].transport"), "tcp");
	assert_int_equal(conf_choice(c, "listen.[1].transport"), 1);
	assert_int_equal(conf_int(c, "listen.[1].port"), 5070);
	assert_string_equal(conf_str(c, "listen.[1].tls.cert"), "");
	assert_int_equal(conf_count(c, "routes"), 0);
	conf_free(c);
}

static void test_values_override_defaults(void **state)
{
	struct conf *c =
	    load_ok("verbose = true;\n"
		    "limits: { max_calls = 20; };\n"
		    "names = [ \"x\" ];\n"
		    "listen = ( { transport = \"tls\"; tls: { cert = \"/c.pem\"; }; } );\n"
		    "routes = ( { prefix = \"+49\"; }, { prefix = \"+33\"; weight = 7; } );\n");

	(void)state;
	assert_true(conf_bool(c, "verbose"));
	assert_int_equal(conf_int(c, "limits.max_calls"), 20);
	assert_string_equal(conf_str(c, "log.level"), "info");
	assert_int_equal(conf_count(c, "names"), 1);
	assert_string_equal(conf_strs_elem(c, "names", 0), "x");
	/* a list written in the file replaces the default list entirely */
	assert_int_equal(conf_count(c, "listen"), 1);
	assert_string_equal(conf_str(c, "listen.[0].transport"), "tls");
	assert_int_equal(conf_choice(c, "listen.[0].transport"), 2);
	assert_int_equal(conf_int(c, "listen.[0].port"), 5070);
	assert_string_equal(conf_str(c, "listen.[0].tls.cert"), "/c.pem");
	assert_int_equal(conf_count(c, "routes"), 2);
	assert_int_equal(conf_int(c, "routes.[0].weight"), 1);
	assert_int_equal(conf_int(c, "routes.[1].weight"), 7);
	assert_string_equal(conf_str(c, "routes.[1].prefix"), "+33");
	conf_free(c);
}

static void test_empty_file_is_defaults(void **state)
{
	struct conf *c = load_ok("# nothing but a comment\n");

	(void)state;
	assert_int_equal(conf_int(c, "limits.max_calls"), 1000);
	assert_string_equal(conf_file(c), "test.conf");
	conf_free(c);
}

static void test_unknown_settings(void **state)
{
	(void)state;
	load_fails("verbose = true;\nverbos = true;\n", "test.conf:2: unknown setting 'verbos'");
	load_fails("limits: {\n  max_call = 3;\n};\n",
		   "test.conf:2: unknown setting 'limits.max_call'");
	load_fails("listen = (\n { port = 1; },\n { prot = 2; }\n);\n",
		   "test.conf:3: unknown setting 'listen.[1].prot'");
	load_fails("nothere: { deeper: { deepest = 1; }; };\n",
		   "test.conf:1: unknown setting 'nothere'");
}

static void test_type_errors(void **state)
{
	(void)state;
	load_fails("\n\nlimits: { max_calls = \"many\"; };\n",
		   "test.conf:3: setting 'limits.max_calls': expected an integer");
	load_fails("verbose = 1;\n", "test.conf:1: setting 'verbose': expected true or false");
	load_fails("log: { level = debug; };\n", "test.conf:1: syntax error");
	load_fails("log: { level = 3; };\n",
		   "test.conf:1: setting 'log.level': expected a string in double quotes");
	load_fails("limits = 3;\n", "test.conf:1: setting 'limits': expected a group { ... }");
	load_fails("names = \"a\";\n",
		   "test.conf:1: setting 'names': expected an array of strings [ \"a\", \"b\" ]");
	load_fails("names = ( \"a\", 1 );\n",
		   "test.conf:1: setting 'names': element 1: expected a string");
	load_fails("listen = { port = 1; };\n",
		   "test.conf:1: setting 'listen': expected a list of groups ( { ... }, { ... } )");
	load_fails("listen = ( 5060 );\n",
		   "test.conf:1: setting 'listen.[0]': expected a group { ... }");
	load_fails("limits: { max_calls = 1.5; };\n",
		   "test.conf:1: setting 'limits.max_calls': expected an integer");
}

static void test_range_and_choices(void **state)
{
	(void)state;
	load_fails("limits: { max_calls = 0; };\n",
		   "test.conf:1: setting 'limits.max_calls': expected an integer from 1 to 100000, "
		   "got 0");
	load_fails(
	    "listen = ( { port = 70000; } );\n",
	    "test.conf:1: setting 'listen.[0].port': expected an integer from 1 to 65535, got "
	    "70000");
	load_fails("listen = ( { transport = \"sctp\"; } );\n",
		   "test.conf:1: setting 'listen.[0].transport': expected one of \"udp\", \"tcp\", "
		   "\"tls\", got \"sctp\"");
}

static void test_duplicate_setting_refused(void **state)
{
	(void)state;
	load_fails("verbose = true;\nverbose = false;\n", "test.conf:2: duplicate setting name");
}

static void test_semantic_error_names_line(void **state)
{
	struct conf *c = load_ok("\nlisten = (\n  { port = 1; },\n  { port = 1; }\n);\n");
	char err[256];

	(void)state;
	assert_int_equal(conf_error(c, "listen.[1].port", err, sizeof(err), "port %d taken", 1),
			 -EINVAL);
	assert_string_equal(err, "test.conf:4: setting 'listen.[1].port': port 1 taken");
	assert_int_equal(conf_error(c, "limits.max_calls", err, sizeof(err), "too many"), -EINVAL);
	assert_string_equal(err, "test.conf: setting 'limits.max_calls' (default): too many");
	conf_free(c);
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_file_errors_name_the_file(void **state)
{
	char path[128], err[512], want[512];
	struct conf *c;

	(void)state;
	strcpy(tmpdir, "/tmp/test_conf.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	/* @include is relative to the including file; errors name the included file */
	write_file("main.conf", "verbose = true;\n@include \"part.conf\"\n");
	write_file("part.conf", "\nlimits: { max_calls = 999999; };\n");
	snprintf(path, sizeof(path), "%s/main.conf", tmpdir);
	assert_int_equal(conf_load_file(&c, &test_schema, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "part.conf:2: setting 'limits.max_calls': expected an integer from 1 to "
		 "100000, got 999999");
	assert_string_equal(err, want);

	write_file("part.conf", "limits: { max_calls = 9; };\n");
	assert_int_equal(conf_load_file(&c, &test_schema, path, err, sizeof(err)), 0);
	assert_int_equal(conf_int(c, "limits.max_calls"), 9);
	assert_string_equal(conf_file(c), path);
	conf_free(c);

	write_file("bad.conf", "verbose = true;\nlimits: { max_calls = ; };\n");
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	assert_int_equal(conf_load_file(&c, &test_schema, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s/bad.conf:2: syntax error", tmpdir);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(conf_load_file(&c, &test_schema, path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "rm -rf %s", tmpdir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_without_file),
		cmocka_unit_test(test_values_override_defaults),
		cmocka_unit_test(test_empty_file_is_defaults),
		cmocka_unit_test(test_unknown_settings),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_range_and_choices),
		cmocka_unit_test(test_duplicate_setting_refused),
		cmocka_unit_test(test_semantic_error_names_line),
		cmocka_unit_test(test_file_errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
