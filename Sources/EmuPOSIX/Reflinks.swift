import CEmuShims
import Glibc
import SystemPackage

extension OpenFile {
    /// Makes this file, new and empty, share every extent of `other` (a
    /// reflink, FICLONE): no byte is copied until one side writes. Fails
    /// with `isUnsupported` (or EXDEV, EINVAL) where the filesystem cannot.
    public func clone(from other: OpenFile) throws {
        _ = try call("clone into", { emu_ficlone(fd, other.fd) }).get()
    }
}

extension DirectoryHandle {
    /// Whether the filesystem holding this directory shares extents: a
    /// reflink tried once between two scratch files, which leave no name.
    public func sharesExtents() throws -> Bool {
        let original = try createScratchFile()
        defer { original.close() }
        let clone = try createScratchFile()
        defer { clone.close() }
        try original.writeAll([0x65])
        do { try clone.clone(from: original) } catch let error as FileSystemError where error.refusesReflink { return false }
        return true
    }
}

extension FileSystemError {
    /// Why a reflink was refused: the filesystem shares no extents, the two
    /// files live on different ones, or it will not share these.
    public var refusesReflink: Bool {
        [.notSupported, .notSupportedOnSocket, .inappropriateIOCTLForDevice, .noFunction, .improperLink, .invalidArgument, .notPermitted].contains(errno)
    }
}

extension DataCopier {
    /// Makes `destination`, new and empty, hold the bytes of `held`, a file
    /// on the same filesystem: a reflink where the filesystem shares extents
    /// (no data block is written), else a copy in the kernel. Returns the
    /// bytes written: 0 for a reflink.
    public func cloneOrCopy(_ held: OpenFile, to destination: OpenFile) throws -> Int64 {
        do {
            try destination.clone(from: held)
            return 0
        } catch let error as FileSystemError where error.refusesReflink {
            return try copyInKernel(from: held, to: destination)
        }
    }

    /// Makes `destination` — a reflink of `older`, an older version of
    /// `source` — equal to `source`, writing only the blocks that differ, so
    /// that it keeps sharing every unchanged extent with `older`. Reads
    /// `source` once (passing every byte to `consume`, as `copy` does) and
    /// `older` once, to compare. Returns the length read and the bytes written.
    public func patch(
        _ destination: OpenFile, cloneOf older: OpenFile, toMatch source: OpenFile, size: Int64, consume: (UnsafeRawBufferPointer) -> Void
    ) throws -> (length: Int64, written: Int64) {
        let half = buffer.count / 2
        let new = UnsafeMutableRawBufferPointer(rebasing: buffer[..<half])
        let old = UnsafeMutableRawBufferPointer(rebasing: buffer[half...])
        var offset: Int64 = 0
        var written: Int64 = 0
        while offset < size {
            let want = Int(min(Int64(half), size - offset))
            let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: new[..<want]), at: offset)
            if n == 0 { break }
            consume(UnsafeRawBufferPointer(rebasing: new[..<n]))
            let held = try older.readFully(into: UnsafeMutableRawBufferPointer(rebasing: old[..<n]), at: offset)
            written += try writeDifferences(UnsafeRawBufferPointer(rebasing: new[..<n]), over: UnsafeRawBufferPointer(rebasing: old[..<held]),
                                            to: destination, at: offset)
            offset += Int64(n)
        }
        try destination.truncate(to: offset)
        return (offset, written)
    }

    /// Writes each block of `new` that `old` (the same range's current
    /// bytes, maybe shorter) does not hold; returns the bytes written.
    func writeDifferences(_ new: UnsafeRawBufferPointer, over old: UnsafeRawBufferPointer, to destination: OpenFile, at offset: Int64) throws -> Int64 {
        let block = 4096
        var written: Int64 = 0
        var start = 0
        while start < new.count {
            let end = min(start + block, new.count)
            let same = end <= old.count && memcmp(new.baseAddress! + start, old.baseAddress! + start, end - start) == 0
            if !same {
                try destination.writeAll(UnsafeRawBufferPointer(rebasing: new[start..<end]), at: offset + Int64(start))
                written += Int64(end - start)
            }
            start = end
        }
        return written
    }
}
