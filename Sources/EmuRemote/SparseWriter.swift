import EmuPOSIX
import Glibc
import EmuCore
import EmuRecords

/// Writes a file's bytes as they arrive over the wire into a new file,
/// leaving a hole wherever a whole block is zeros (what `cp --sparse=auto`
/// and `rsync --sparse` do): the wire carries no holes, and a sparse disk
/// image must not come out of a sink full size.
package struct SparseWriter {
    package let output: OpenFile
    /// Bytes received so far: the file's length when `finish` is called.
    package private(set) var length: Int64 = 0
    /// Where the last write ended: the file's size on disk so far.
    private var writtenEnd: Int64 = 0

    package static let blockSize = 4096
    private static let zeros = [UInt8](repeating: 0, count: blockSize)

    package init(_ output: OpenFile) { self.output = output }

    /// Writes the runs of `bytes` that hold something other than zeros.
    package mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var runStart: Int? = nil
            var position = 0
            while position < raw.count {
                // Blocks are aligned to the file's offsets, as the filesystem's are.
                let blockEnd = min(raw.count, position + Self.blockSize - Int((length + Int64(position)) % Int64(Self.blockSize)))
                let isZeros = Self.zeros.withUnsafeBytes { memcmp(raw.baseAddress! + position, $0.baseAddress!, blockEnd - position) == 0 }
                if isZeros, let start = runStart {
                    try output.writeAll(UnsafeRawBufferPointer(rebasing: raw[start..<position]), at: length + Int64(start))
                    writtenEnd = length + Int64(position)
                    runStart = nil
                } else if !isZeros, runStart == nil {
                    runStart = position
                }
                position = blockEnd
            }
            if let start = runStart {
                try output.writeAll(UnsafeRawBufferPointer(rebasing: raw[start...]), at: length + Int64(start))
                writtenEnd = length + Int64(raw.count)
            }
        }
        length += Int64(bytes.count)
    }

    /// Sets the file's length where the writes left it short: a file that
    /// ends in zeros ends in a hole. (The file was new and empty.)
    package func finish() throws {
        if length > writtenEnd { try output.truncate(to: length) }
    }
}
