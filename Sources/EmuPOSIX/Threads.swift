import Glibc

/// A bounded queue between two threads: the sender waits while it is full,
/// the receiver while it is empty. Whole batches cross it, so the lock is
/// taken once per batch, not once per record.
public final class Handoff<Item: Sendable>: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let capacity: Int
    // Guarded by `lock`.
    private var items: [Item] = []
    private var isClosed = false

    public init(capacity: Int) {
        self.capacity = capacity
        pthread_mutex_init(lock, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        changed.deallocate()
        lock.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body()
    }

    /// Waits for room, then queues `item`; false when the other side closed
    /// the handoff (the item is dropped).
    @discardableResult
    public func send(_ item: Item) -> Bool {
        locked {
            while items.count >= capacity && !isClosed { pthread_cond_wait(changed, lock) }
            guard !isClosed else { return false }
            items.append(item)
            pthread_cond_broadcast(changed)
            return true
        }
    }

    /// Waits for an item; nil once the handoff is closed and empty.
    public func receive() -> Item? {
        locked {
            while items.isEmpty && !isClosed { pthread_cond_wait(changed, lock) }
            guard !items.isEmpty else { return nil }
            pthread_cond_broadcast(changed)
            return items.removeFirst()
        }
    }

    /// No more items: a waiting sender gives up, the receiver gets what is
    /// queued and then nil.
    public func close() {
        locked {
            isClosed = true
            pthread_cond_broadcast(changed)
        }
    }
}

/// A thread running one closure; `join` waits for it to return. A push uses
/// the second core for its manifests: one thread decodes the earlier
/// snapshot's records ahead of the walk, another encodes and writes the new
/// one's, while the walk makes the system calls.
public final class WorkerThread {
    private var thread = pthread_t()
    private var isJoined = false

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    public init(_ run: @escaping @Sendable () -> Void) {
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        let result = pthread_create(&thread, nil, { argument in
            Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, body)
        precondition(result == 0, "cannot start a thread: \(String(cString: strerror(result)))")
    }

    /// Waits for the thread to return; from the thread itself (its body
    /// released the last reference), lets it end on its own instead.
    public func join() {
        guard !isJoined else { return }
        isJoined = true
        if pthread_equal(thread, pthread_self()) != 0 { pthread_detach(thread) } else { pthread_join(thread, nil) }
    }

    deinit { join() }
}

/// Calls `tick` every `interval` seconds on a thread of its own until
/// `stop` (which wakes it at once: it does not wait out an interval).
public final class Ticker {
    private final class State: @unchecked Sendable {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        var stopped = false  // guarded by `lock`

        init() {
            pthread_mutex_init(lock, nil)
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(wake, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        deinit {
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(lock)
            wake.deallocate()
            lock.deallocate()
        }
    }

    private let state = State()
    private var worker: WorkerThread?

    public init(every interval: Double, _ tick: @escaping @Sendable () -> Void) {
        let state = state
        worker = WorkerThread {
            pthread_mutex_lock(state.lock)
            while !state.stopped {
                var deadline = timespec()
                clock_gettime(CLOCK_MONOTONIC, &deadline)
                let nanoseconds = Int(deadline.tv_nsec) + Int(interval * 1e9)
                deadline.tv_sec += nanoseconds / 1_000_000_000
                deadline.tv_nsec = nanoseconds % 1_000_000_000
                guard pthread_cond_timedwait(state.wake, state.lock, &deadline) == ETIMEDOUT, !state.stopped else { continue }
                pthread_mutex_unlock(state.lock)
                tick()
                pthread_mutex_lock(state.lock)
            }
            pthread_mutex_unlock(state.lock)
        }
    }

    /// Ends the ticks; returns once the last one has.
    public func stop() {
        pthread_mutex_lock(state.lock)
        state.stopped = true
        pthread_cond_broadcast(state.wake)
        pthread_mutex_unlock(state.lock)
        worker?.join()
        worker = nil
    }

    deinit { stop() }
}

/// Hands a value that is not Sendable to one other thread, which from then
/// on is its only user.
public struct Transfer<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
