import EmuPOSIX
import Synchronization

/// Steps taken in the order they are submitted, on a thread of their own:
/// how a push's or a checkout's walk hands the second core the work it can
/// do. Steps cross in batches, so the lock is taken once per batch.
///
/// The first error a step throws stops the thread; the submitter hears of
/// it at its next submission or at `finish`. Steps that will not be taken
/// go to `release` (which closes what they hold). Without a thread, each
/// step is taken as it is submitted.
package final class StepThread<Step> {
    private enum Item {
        case step(Step)
        /// Answers once every step before it is taken.
        case barrier(Handoff<Bool>)
    }

    private final class Failure: @unchecked Sendable {
        package var error: Error? = nil
    }

    private let take: (Step) throws -> Void
    private let handoff: Handoff<[Transfer<Item>]>?
    private let worker: WorkerThread?
    private let failure = Failure()
    private let release: (Step) -> Void
    /// Called before each batch crosses to the thread: what its steps need
    /// from the submitter must be out by then (a request they wait for).
    package var beforeHandoff: () throws -> Void = {}
    private var pending: [Transfer<Item>] = []
    private var pendingWeight = 0
    private let weightPerBatch: Int
    private let stepsPerBatch: Int

    /// A batch goes when it holds `stepsPerBatch` steps or `weightPerBatch`
    /// weight (what the submitter counts: descriptors held, say).
    package init(threaded: Bool, stepsPerBatch: Int, weightPerBatch: Int = .max,
         take: @escaping (Step) throws -> Void, release: @escaping (Step) -> Void) {
        self.take = take
        self.release = release
        self.stepsPerBatch = stepsPerBatch
        self.weightPerBatch = weightPerBatch
        guard threaded else {
            handoff = nil
            worker = nil
            return
        }
        let handoff = Handoff<[Transfer<Item>]>(capacity: 4)
        let failure = failure
        let work = Transfer((take: take, release: release))
        self.handoff = handoff
        worker = WorkerThread {
            while let items = handoff.receive() {
                for item in items {
                    switch item.value {
                    case .barrier(let done):
                        if failure.error == nil { done.send(true) } else { done.close() }
                    case .step(let step) where failure.error != nil:
                        work.value.release(step)
                    case .step(let step):
                        do { try work.value.take(step) } catch {
                            failure.error = error
                            handoff.close()
                        }
                    }
                }
            }
        }
    }

    deinit {
        handoff?.close()
        worker?.join()
    }

    /// Queues a step (takes it now, without a thread). A step that is much
    /// work (`startsNow`) goes at once with its batch, so that the thread is
    /// not idle while the submitter works on.
    package func submit(_ step: Step, weight: Int = 0, startsNow: Bool = false) throws {
        guard let handoff else { return try take(step) }
        pending.append(Transfer(.step(step)))
        pendingWeight += weight
        if startsNow || pendingWeight >= weightPerBatch || pending.count >= stepsPerBatch { try send(handoff) }
    }

    private func send(_ handoff: Handoff<[Transfer<Item>]>) throws {
        try beforeHandoff()
        let items = pending
        pending.removeAll(keepingCapacity: true)
        pendingWeight = 0
        guard handoff.send(items) else {
            for item in items {
                switch item.value {
                case .step(let step): release(step)
                case .barrier(let done): done.close()
                }
            }
            throw stopped()
        }
    }

    private func stopped() -> Error {
        worker?.join()
        return failure.error ?? EmuError.failed("a worker thread stopped without saying why", fix: "run the command again")
    }

    /// Waits until every step submitted so far is taken: then the caller may
    /// take one itself, the thread being idle.
    package func drain() throws {
        guard let handoff else { return }
        let done = Handoff<Bool>(capacity: 1)
        pending.append(Transfer(.barrier(done)))
        try send(handoff)
        guard done.receive() != nil else { throw stopped() }
    }

    /// Takes the remaining steps and stops the thread.
    package func finish() throws {
        if let handoff {
            if !pending.isEmpty { try send(handoff) }
            handoff.close()
            worker?.join()
        }
        if let error = failure.error { throw error }
    }
}

/// How many steps of some kind a submitter has queued that the thread has
/// not finished: how the submitter tells whether the thread is behind.
package final class Backlog: Sendable {
    package let count = Atomic<Int>(0)

    package init() {}
}
