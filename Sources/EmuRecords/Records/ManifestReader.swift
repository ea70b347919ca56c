import EmuPOSIX
import Glibc
import SystemPackage

/// A stream of records in path order: a manifest, or a live tree scanned.
public protocol RecordReader: AnyObject {
    func next() throws -> ManifestRecord?
    /// What the records can vouch for (see `RecordOrigin`).
    var origin: RecordOrigin { get }
}

extension RecordReader {
    public var origin: RecordOrigin { .manifest }
}

/// Where a manifest's bytes come from: a file in a sink, or the frames a
/// server streams.
public protocol ManifestBytes {
    /// Fills `buffer` as far as the bytes go; 0 at their end.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    func close()
    /// What to call it in messages.
    var path: [UInt8] { get }
    /// Records left out unread (see `ChunkedManifestText`), which the end line counts.
    var recordsSkipped: Int { get }
}

extension ManifestBytes {
    public var recordsSkipped: Int { 0 }
}

extension OpenFile: ManifestBytes {
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try readFully(into: buffer, at: nil) }
}

/// Reads a manifest as a stream, checking as it goes what a sink cannot be
/// trusted with: every line well-formed, every path safe (no `..`, no
/// absolute path), and paths strictly increasing.
public final class ManifestReader: RecordReader {
    package let file: any ManifestBytes
    package var path: [UInt8] { file.path }
    /// A manifest cut short (a killed push's) ends quietly instead of failing.
    package let allowsTruncation: Bool
    package var lines = LineBuffer(capacity: 256 * 1024)
    package var lineNumber = 1
    package var previous: RelativePath? = nil
    public private(set) var isComplete = false
    public private(set) var count = 0
    /// A manifest's text carries no origin: records scanned on a server and
    /// sent as text say so through this (see `RemoteSink.openRecords`).
    public var origin = RecordOrigin.manifest

    public init(file: any ManifestBytes, allowsTruncation: Bool = false) throws {
        self.file = file
        self.allowsTruncation = allowsTruncation
        guard let first = try nextLine(), first == ManifestFormat.header.dropLast() else {
            throw malformed("it does not start with `emu-manifest 1`")
        }
    }

    deinit { file.close() }

    /// Opens `name` in `directory`.
    public convenience init(in directory: DirectoryHandle, name: FileName, allowsTruncation: Bool = false) throws {
        try self.init(file: try directory.openForReading(name), allowsTruncation: allowsTruncation)
    }

    package func malformed(_ why: String) -> EmuError {
        .failed("the manifest \(Printable.path(path)) is damaged at line \(lineNumber): \(why)",
                fix: "run `emu verify` to see which snapshots are affected")
    }

    /// The next record, or nil after the last one.
    public func next() throws -> ManifestRecord? {
        guard !isComplete, let line = try nextLine() else {
            if !isComplete && !allowsTruncation { throw malformed("it ends without its end line") }
            return nil
        }
        lineNumber += 1
        if line.starts(with: ManifestFormat.endTag + [ManifestFormat.tab]) {
            guard Int(decimal: line.dropFirst(4)) == count + file.recordsSkipped else { throw malformed("the end line's count is wrong") }
            isComplete = true
            return nil
        }
        guard let record = ManifestFormat.decode(line) else { throw malformed("the line is not a record") }
        guard record.path.isSafe, previous == nil ? record.path.isRoot : !record.path.isRoot,
              record.hardlinkLeader?.isSafe ?? true
        else { throw malformed("unsafe path \(record.path)") }
        if let previous, !(previous < record.path) { throw malformed("paths out of order at \(record.path)") }
        previous = record.path
        count += 1
        return record
    }

    package func nextLine() throws -> ArraySlice<UInt8>? {
        try lines.next { try file.readFully(into: $0) }
    }
}
