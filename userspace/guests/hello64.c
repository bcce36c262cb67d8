// SPDX-License-Identifier: GPL-2.0
/*
 * An ELF64 guest in C: minihv-run loads it by its program headers at
 * 1 MiB and starts it in long mode with RSP at the top of usable RAM.
 * It prints through the 0xE9 debug port and halts.
 */
static inline void outb(unsigned short port, unsigned char v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_e9(const char *s)
{
	while (*s)
		outb(0xe9, *s++);
}

void __attribute__((noreturn, section(".text.start"))) _start(void)
{
	unsigned long fib[16] = { 0, 1 };
	int i;

	for (i = 2; i < 16; i++)
		fib[i] = fib[i - 1] + fib[i - 2];
	puts_e9(fib[15] == 610 ? "Hello from a 64-bit ELF guest in C!\n"
			       : "fib is wrong\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}
