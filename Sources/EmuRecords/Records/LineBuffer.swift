import Glibc

/// Lines read from a stream of bytes, each a slice of one buffer that grows
/// to hold the longest: a manifest's records, a chunk list's entries.
package struct LineBuffer {
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF = false

    package init(capacity: Int) { buffer = [UInt8](repeating: 0, count: capacity) }

    /// The next line without its newline; nil at the end of the bytes. A
    /// last line without a newline is a truncated one and is dropped.
    /// `fill` reads more into the buffer it is given, 0 at the end.
    package mutating func next(fill: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start..<end].firstIndex(of: ManifestFormat.newline) {
                let line = buffer[start..<newline]
                start = newline + 1
                return line
            }
            if atEOF { return nil }
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let n = try buffer.withUnsafeMutableBytes { raw in try fill(UnsafeMutableRawBufferPointer(rebasing: raw[end...])) }
            if n == 0 { atEOF = true }
            end += n
        }
    }
}
