// SPDX-License-Identifier: GPL-2.0
/*
 * On a CPU with neither VT-x nor AMD-V (the qemu-none test machine), the
 * module refuses to load with -ENODEV and says why in one line.
 */
#include <errno.h>

#include "kselftest_harness.h"
#include "sysutil.h"

TEST(load_refused_without_virtualization)
{
	struct kmsg_cursor log;
	char problem[256];
	char *text;

	if (expected_vendor())
		SKIP(return, "this CPU has VT-x or AMD-V");
	ASSERT_EQ(0, kmsg_cursor_open(&log));
	EXPECT_EQ(-ENODEV, module_load(minihv_ko_path(), NULL));
	EXPECT_FALSE(module_is_loaded("minihv"));
	EXPECT_NE(0, access(MINIHV_DEV, F_OK));
	text = kmsg_cursor_read(&log);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "minihv: no hardware virtualization"))
		TH_LOG("log: %s", text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	free(text);
	kmsg_cursor_close(&log);
}

TEST_HARNESS_MAIN
