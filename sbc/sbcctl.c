/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sbcctl: command-line client of the daemons' control sockets.
 * Exit status: 0 when the daemon answered "ok", 1 on "error: ...", 2 when it
 * could not be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SBC_CTL_DEFAULT	      "/run/sbc/sbc.ctl"
#define RTPENGINE_CTL_DEFAULT "/run/sbc/rtpengine.ctl"

static void usage(FILE *out)
{
	fprintf(out, "Usage: sbcctl [-s SOCKET | -r] COMMAND [ARGS...]\n"
		     "Sends COMMAND to a daemon's control socket and prints the answer.\n\n"
		     "  -s, --socket PATH  control socket (default " SBC_CTL_DEFAULT ")\n"
		     "  -r, --rtpengine    talk to rtpengine (" RTPENGINE_CTL_DEFAULT ")\n"
		     "  -h, --help         this help\n"
		     "  -V, --version      show the version\n\n"
		     "'sbcctl help' lists the daemon's commands.\n");
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "rtpengine", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = SBC_CTL_DEFAULT;
	char line[1024], buf[4096];
	size_t len = 0;
	int opt, fd, status = -1;
	ssize_t n;

	while ((opt = getopt_long(argc, argv, "+s:rhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'r':
			path = RTPENGINE_CTL_DEFAULT;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sbcctl %s\n", SBC_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		int w = snprintf(line + len, sizeof(line) - len, "%s%s", i > optind ? " " : "",
				 argv[i]);
		if (w < 0 || (size_t)w >= sizeof(line) - len - 1) {
			fprintf(stderr, "sbcctl: command too long\n");
			return 2;
		}
		len += (size_t)w;
	}
	line[len++] = '\n';

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sbcctl: socket path too long\n");
		return 2;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "sbcctl: cannot connect to %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (send_all(fd, line, len) < 0) {
		fprintf(stderr, "sbcctl: cannot send to %s: %s\n", path, strerror(errno));
		return 2;
	}
	/* The first line is the status; the rest is printed as is. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		const char *p = buf;
		size_t left = (size_t)n;

		if (status < 0) {
			status = strncmp(buf, "ok", 2) == 0 ? 0 : 1;
			if (status == 1) {
				fwrite("sbcctl: ", 1, 8, stderr);
				fwrite(buf, 1, left, stderr);
				continue;
			}
			const char *nl = memchr(buf, '\n', left);
			if (nl) {
				left -= (size_t)(nl + 1 - buf);
				p = nl + 1;
			}
		}
		fwrite(p, 1, left, status == 1 ? stderr : stdout);
	}
	close(fd);
	if (status < 0) {
		fprintf(stderr, "sbcctl: %s closed without an answer\n", path);
		return 2;
	}
	return status;
}
