import EmuPOSIX

/// A manifest reader that can look at its next record without taking it.
struct ManifestCursor {
    let reader: RecordReader
    private var pending: ManifestRecord?
    private var loaded = false

    init(_ reader: RecordReader) { self.reader = reader }

    mutating func peek() throws -> ManifestRecord? {
        if !loaded { pending = try reader.next(); loaded = true }
        return pending
    }

    mutating func take() throws -> ManifestRecord? {
        let record = try peek()
        loaded = false
        return record
    }

    /// Passes over every record at or below `path`.
    mutating func skip(within path: RelativePath) throws {
        while let next = try peek(), next.path.isWithin(path) { _ = try take() }
    }
}
