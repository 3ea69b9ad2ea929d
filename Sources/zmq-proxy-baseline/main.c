// zmq-proxy-baseline: libzmq's own XSUB/XPUB forwarder (zmq_proxy), the baseline that the
// GridBus benchmarks compare against. Publishers connect PUB sockets to FRONTEND, subscribers
// connect SUB sockets to BACKEND. High-water marks are 0 (unbounded) so that it loses nothing:
// with libzmq's default of 1,000 a fast publisher loses most of a burst. Stops on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: zmq-proxy-baseline FRONTEND BACKEND\n  e.g. zmq-proxy-baseline tcp://127.0.0.1:7700 tcp://127.0.0.1:7701\n");
        return 2;
    }
    // Block the signals before libzmq starts its threads, then wait for them on this thread.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    void *context = zmq_ctx_new();
    void *frontend = zmq_socket(context, ZMQ_XSUB);
    void *backend = zmq_socket(context, ZMQ_XPUB);
    int zero = 0;
    zmq_setsockopt(frontend, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(backend, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(frontend, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(backend, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(frontend, argv[1]) != 0 || zmq_bind(backend, argv[2]) != 0) {
        fprintf(stderr, "zmq-proxy-baseline: bind: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    // The proxy runs on its own thread; this one waits for a signal, then stops the context.
    pthread_t proxy;
    struct { void *frontend, *backend; } sockets = {frontend, backend};
    void *run(void *arg);
    pthread_create(&proxy, NULL, run, &sockets);
    fprintf(stderr, "zmq-proxy-baseline: ready\n");
    int received;
    sigwait(&set, &received);
    zmq_ctx_shutdown(context);
    pthread_join(proxy, NULL);
    zmq_close(frontend);
    zmq_close(backend);
    zmq_ctx_term(context);
    return 0;
}

void *run(void *arg) {
    void **sockets = arg;
    zmq_proxy(sockets[0], sockets[1], NULL);
    return NULL;
}
