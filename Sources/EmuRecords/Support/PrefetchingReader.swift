import EmuPOSIX

/// Reads records on a thread of its own, a few batches ahead of the
/// consumer: decoding and checking a manifest then costs the walk that
/// reads it no time of its own core. Errors arrive in order, after the
/// records before them.
public final class PrefetchingReader: RecordReader {
    package enum Batch: Sendable {
        case records([ManifestRecord])
        case failed(Error)
    }

    private let handoff = Handoff<Batch>(capacity: 4)
    private let worker: WorkerThread
    private var batch: [ManifestRecord] = []
    private var position = 0
    private var failure: Error? = nil
    private var isFinished = false
    package static let batchSize = 256
    public let origin: RecordOrigin

    public init(_ reader: RecordReader) {
        origin = reader.origin
        let source = Transfer(reader)
        let handoff = handoff
        worker = WorkerThread {
            var records: [ManifestRecord] = []
            records.reserveCapacity(Self.batchSize)
            do {
                while let record = try source.value.next() {
                    records.append(record)
                    if records.count == Self.batchSize {
                        guard handoff.send(.records(records)) else { return }
                        records.removeAll(keepingCapacity: true)
                    }
                }
                if !records.isEmpty { handoff.send(.records(records)) }
            } catch {
                if !records.isEmpty { handoff.send(.records(records)) }
                handoff.send(.failed(error))
            }
            handoff.close()
        }
    }

    deinit {
        handoff.close()
        worker.join()
    }

    public func next() throws -> ManifestRecord? {
        while position == batch.count {
            if let failure { throw failure }
            if isFinished { return nil }
            switch handoff.receive() {
            case .records(let records)?:
                batch = records
                position = 0
            case .failed(let error)?:
                failure = error
            case nil:
                isFinished = true
            }
        }
        position += 1
        return batch[position - 1]
    }
}
