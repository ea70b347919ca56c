import EmuPOSIX

/// The one way records are read in step with something else (a walk, another
/// manifest): a reader that can look at its next record without taking it,
/// skip a subtree, or find a path's record by passing over those before it.
/// A read that fails throws once, and the cursor ends there.
package struct ManifestCursor {
    package let reader: RecordReader
    /// How many records were taken: the ordinal of the next one, which two
    /// sides reading the same manifest can name it by.
    package private(set) var taken = 0
    private var pending: ManifestRecord?
    private var loaded = false
    private var ended = false

    package init(_ reader: RecordReader) { self.reader = reader }

    package mutating func peek() throws -> ManifestRecord? {
        if ended { return nil }
        if !loaded {
            do { pending = try reader.next() } catch {
                ended = true
                throw error
            }
            loaded = true
        }
        return pending
    }

    package mutating func take() throws -> ManifestRecord? {
        let record = try peek()
        loaded = false
        if record != nil { taken += 1 }
        return record
    }

    /// Passes over every record at or below `path`.
    package mutating func skip(within path: RelativePath) throws {
        while let next = try peek(), next.path.isWithin(path) { _ = try take() }
    }

    /// The record for `path`, if there is one; records before it are passed
    /// over (paths must be asked for in manifest order).
    package mutating func record(at path: RelativePath) throws -> ManifestRecord? {
        while let next = try peek() {
            if next.path < path {
                _ = try take()
                continue
            }
            return next.path == path ? next : nil
        }
        return nil
    }
}
