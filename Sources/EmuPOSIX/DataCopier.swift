import CEmuShims
import Glibc
import SystemPackage

/// Copies file contents, keeping holes as holes: only the data ranges that
/// SEEK_DATA/SEEK_HOLE report are read and written, then the destination is
/// truncated to the length read. One copier owns one buffer, reused for
/// every file it copies.
public final class DataCopier {
    public let buffer: UnsafeMutableRawBufferPointer
    static let zeros = [UInt8](repeating: 0, count: 256 * 1024)

    public init(bufferSize: Int = 1 << 20) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Reads `source` once, passes every byte (holes as zeros) to `consume`
    /// in order, and writes the data to `destination` at the same offsets.
    /// Returns the length read: a file that shrank while read ends early; one
    /// that grew is read to its new end.
    ///
    /// `sourceStatus`, the source's fstat when the caller has it, lets a file
    /// whose blocks cover its size (no holes) be read to that size with no
    /// seeks for holes and no read to find its end; a file that grew since
    /// is read to that size only (the caller compares sizes afterwards).
    public func copy(
        from source: OpenFile, to destination: OpenFile?, sourceStatus: FileStatus? = nil,
        consume: (UnsafeRawBufferPointer) -> Void
    ) throws -> Int64 {
        if let sourceStatus, sourceStatus.blocks * 512 >= sourceStatus.size {
            return try copyDense(from: source, to: destination, size: sourceStatus.size, consume: consume)
        }
        var offset: Int64 = 0
        while true {
            let (dataStart, atEnd) = try nextData(source, from: offset)
            if dataStart > offset {
                feedZeros(count: dataStart - offset, to: consume)
                offset = dataStart
            }
            if atEnd { break }
            let holeStart = try nextHole(source, from: offset)
            var reachedEOF = false
            while offset < holeStart || holeStart < 0 {
                let want = holeStart < 0 ? buffer.count : Int(min(Int64(buffer.count), holeStart - offset))
                let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: offset)
                if n == 0 { reachedEOF = true; break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<n])
                consume(chunk)
                try destination?.writeAll(chunk, at: offset)
                offset += Int64(n)
            }
            if reachedEOF { break }
        }
        try destination?.truncate(to: offset)
        return offset
    }

    /// Reads up to `size` bytes from the start (fewer when the file shrank)
    /// and writes them in order to `destination`, a new empty file.
    func copyDense(
        from source: OpenFile, to destination: OpenFile?, size: Int64, consume: (UnsafeRawBufferPointer) -> Void
    ) throws -> Int64 {
        var offset: Int64 = 0
        while offset < size {
            let want = Int(min(Int64(buffer.count), size - offset))
            let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: offset)
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<n])
            consume(chunk)
            try destination?.writeAll(chunk, at: offset)
            offset += Int64(n)
        }
        return offset
    }

    /// Copies `source` to `destination`, a new empty file, in the kernel
    /// (copy_file_range), data ranges only, falling back to read/write where
    /// the kernel cannot. A file whose blocks cover its size has no holes:
    /// it is copied without seeking for them.
    public func copyInKernel(
        from source: OpenFile, to destination: OpenFile, sourceStatus: FileStatus? = nil
    ) throws -> Int64 {
        let status = try sourceStatus ?? source.status()
        let isDense = status.blocks * 512 >= status.size
        var offset: Int64 = 0
        var kernelCopies = true
        while true {
            let (dataStart, atEnd) = isDense ? (offset, false) : try nextData(source, from: offset)
            offset = dataStart
            if atEnd { break }
            let holeStart = isDense ? -1 : try nextHole(source, from: offset)
            var reachedEOF = false
            while offset < holeStart || holeStart < 0 {
                // A dense file is copied to the size it had (a snapshot's file does not grow).
                if isDense && offset >= status.size { reachedEOF = true; break }
                let want = holeStart < 0 ? 1 << 30 : Int(min(1 << 30, holeStart - offset))
                if kernelCopies {
                    var inOffset = offset, outOffset = offset
                    // The kernel's copy cannot say which side failed: a sink that fills is the common cause, so the destination is named.
                    switch destination.call("copy to", { emu_copy_file_range(source.fd, &inOffset, destination.fd, &outOffset, want) }) {
                    case .success(0):
                        reachedEOF = true
                    case .success(let n):
                        offset += Int64(n)
                    case .failure(let error) where Self.kernelCannotCopy.contains(error.errno):
                        kernelCopies = false
                    case .failure(let error):
                        throw error
                    }
                } else {
                    let n = try source.readFully(
                        into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(want, buffer.count)]), at: offset)
                    if n == 0 { reachedEOF = true; break }
                    try destination.writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<n]), at: offset)
                    offset += Int64(n)
                }
                if reachedEOF { break }
            }
            if reachedEOF { break }
        }
        // Only a trailing hole leaves the new file short of its length.
        if !isDense { try destination.truncate(to: offset) }
        return offset
    }

    /// Copies `source` to a stream (a pipe, a terminal) from its current
    /// offset to its end: holes arrive as zeros.
    public func stream(from source: OpenFile, to destination: OpenFile) throws {
        while true {
            let n = try source.readFully(into: buffer)
            if n == 0 { return }
            try destination.writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
    }

    /// The start of the next data range at or after `offset`, and whether the
    /// file has no more data. Filesystems without SEEK_DATA give all data.
    func nextData(_ file: OpenFile, from offset: Int64) throws -> (Int64, Bool) {
        switch file.call("seek", { lseek(file.fd, off_t(offset), EMU_SEEK_DATA) }) {
        case .success(let start): return (Int64(start), false)
        case .failure(let error) where error.errno == .noSuchAddressOrDevice:
            // No data past offset: the rest is a hole up to the size.
            let size = try file.status().size
            return (max(size, offset), true)
        case .failure(let error) where error.errno == .invalidArgument || error.errno == .notSupported: return (offset, false)
        case .failure(let error): throw error
        }
    }

    /// The start of the hole after `offset` (the end of the file at the
    /// latest), or -1 where the filesystem cannot say: read to EOF then.
    func nextHole(_ file: OpenFile, from offset: Int64) throws -> Int64 {
        switch file.call("seek", { lseek(file.fd, off_t(offset), EMU_SEEK_HOLE) }) {
        case .success(let end): return Int64(end)
        case .failure(let error) where [.noSuchAddressOrDevice, .invalidArgument, .notSupported].contains(error.errno): return -1
        case .failure(let error): throw error
        }
    }

    /// What copy_file_range answers where the kernel cannot copy these two
    /// files (across filesystems, on one without it): read and write then.
    static let kernelCannotCopy: Set<Errno> = [.improperLink, .invalidArgument, .noFunction, .notSupported, .notSupportedOnSocket,
                                               .badFileDescriptor]

    func feedZeros(count: Int64, to consume: (UnsafeRawBufferPointer) -> Void) {
        Self.zeros.withUnsafeBytes { zeros in
            var left = count
            while left > 0 {
                let n = Int(min(left, Int64(zeros.count)))
                consume(UnsafeRawBufferPointer(rebasing: zeros[..<n]))
                left -= Int64(n)
            }
        }
    }
}

extension DataCopier {
    /// The data ranges (offset, length) of the first `size` bytes of `file`,
    /// in order: everything else is a hole. A filesystem that cannot say
    /// gives one range, the whole file.
    public func dataRanges(of file: OpenFile, size: Int64) throws -> [(offset: Int64, length: Int64)] {
        var ranges: [(offset: Int64, length: Int64)] = []
        var offset: Int64 = 0
        while offset < size {
            let (start, atEnd) = try nextData(file, from: offset)
            if atEnd || start >= size { break }
            let hole = try nextHole(file, from: start)
            let end = hole < 0 ? size : min(hole, size)
            ranges.append((start, end - start))
            offset = end
        }
        return ranges
    }
}
