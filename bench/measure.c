/* measure: runs a command and writes its exit code, peak RSS, CPU time, and the wall-clock
 * times (CLOCK_REALTIME, ns) of its exec and of its exit to a file.
 * Python cannot measure this itself: a child forked from the interpreter inherits its
 * ~20 MB peak RSS through exec, and a time taken in Python before Popen would count the
 * interpreter's fork. Here the child stamps the clock right before execvp, so the timed
 * window starts at exec.   usage: measure RESULT_FILE PROGRAM [ARGS...]
 * Output: "code maxrss_kib cpu_seconds exec_ns end_ns". The peak RSS is that of the
 * largest single process (the command or any child it waited for). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: measure RESULT_FILE PROGRAM [ARGS...]\n");
        return 2;
    }
    /* The child writes its exec time here; the page is shared across fork. */
    long long *exec_ns = mmap(NULL, sizeof *exec_ns, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (exec_ns == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        *exec_ns = now_ns();
        execvp(argv[2], argv + 2);
        perror("exec");
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    long long end_ns = now_ns();
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror("fopen");
        return 2;
    }
    fprintf(f, "%d %ld %.6f %lld %lld\n", code, ru.ru_maxrss,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
            *exec_ns, end_ns);
    fclose(f);
    return code;
}
