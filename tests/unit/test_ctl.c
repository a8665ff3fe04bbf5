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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/loop.h"

struct fixture {
	struct loop *loop;
	struct ctl *ctl;
	char dir[64];
	char path[128];
	int calls;
};

static int cmd_echo(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	struct fixture *f = arg;

	f->calls++;
	for (int i = 0; i < argc; i++)
		ctl_printf(r, "%s%s", i ? " " : "", argv[i]);
	ctl_printf(r, "\n");
	return 0;
}

static int cmd_fail(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	(void)argc;
	(void)argv;
	(void)arg;
	return ctl_reply_error(r, "nothing to %s", "fail");
}

/* A reply far larger than any socket buffer: written in pieces on EPOLLOUT. */
static int cmd_big(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	(void)argc;
	(void)argv;
	(void)arg;
	for (int i = 0; i < 100000; i++)
		ctl_printf(r, "line %06d\n", i);
	return 0;
}

static const struct ctl_command commands[] = {
	{ "echo", "print the arguments", cmd_echo },
	{ "fail", "always fails", cmd_fail },
	{ "big", "a large reply", cmd_big },
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_ctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* a directory that does not exist yet: ctl_alloc creates it */
	snprintf(f->path, sizeof(f->path), "%s/run/test.ctl", f->dir);
	assert_int_equal(loop_alloc(&f->loop), 0);
	assert_int_equal(ctl_alloc(&f->ctl, f->loop, f->path, commands, 3, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ctl_free(f->ctl);
	loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int client_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	strcpy(sun.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void stop_loop(void *arg)
{
	loop_stop(arg);
}

/* Runs the daemon side for a while, reading what the client got until EOF. */
static size_t exchange(struct fixture *f, const char *line, char *out, size_t size)
{
	int fd = client_connect(f->path);
	struct timer t;
	size_t len = 0;

	if (line)
		assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	timer_init(&t);
	for (int round = 0; round < 200; round++) {
		ssize_t n;

		timer_start(loop_timers(f->loop), &t, 5, stop_loop, f->loop);
		loop_run(f->loop);
		while ((n = read(fd, out + len, size - 1 - len)) > 0)
			len += (size_t)n;
		if (n == 0)
			break; /* the daemon closed: the reply is complete */
	}
	timer_cancel(loop_timers(f->loop), &t);
	out[len] = '\0';
	close(fd);
	return len;
}

static void test_command_and_arguments(void **state)
{
	struct fixture *f = *state;
	char out[256];
	struct stat st;

	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	exchange(f, "echo a  b\tc\r\n", out, sizeof(out));
	assert_string_equal(out, "ok\necho a b c\n");
	assert_int_equal(f->calls, 1);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	char out[256];

	exchange(f, "fail\n", out, sizeof(out));
	assert_string_equal(out, "error: nothing to fail\n");
	exchange(f, "nosuch arg\n", out, sizeof(out));
	assert_string_equal(out, "error: unknown command 'nosuch' (try 'help')\n");
	exchange(f, "\n", out, sizeof(out));
	assert_string_equal(out, "error: empty command (try 'help')\n");
}

static void test_builtins(void **state)
{
	struct fixture *f = *state;
	char out[512];

	exchange(f, "version\n", out, sizeof(out));
	assert_string_equal(out, "ok\n" SBC_VERSION "\n");
	exchange(f, "help\n", out, sizeof(out));
	assert_non_null(strstr(out, "echo\tprint the arguments\n"));
	assert_non_null(strstr(out, "big\ta large reply\n"));
}

static void test_large_reply(void **state)
{
	struct fixture *f = *state;
	size_t size = 2 << 20;
	char *out = malloc(size);

	assert_non_null(out);
	assert_int_equal(exchange(f, "big\n", out, size), 3 + 100000 * 12);
	assert_memory_equal(out + 3 + 99999 * 12, "line 099999\n", 12);
	free(out);
}

static void test_line_too_long_closes(void **state)
{
	struct fixture *f = *state;
	char line[2048], out[64];

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(exchange(f, line, out, sizeof(out)), 0);
	assert_int_equal(f->calls, 0);
}

static void test_removes_socket(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	ctl_free(f->ctl);
	f->ctl = NULL;
	assert_int_equal(stat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_command_and_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_builtins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removes_socket, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
