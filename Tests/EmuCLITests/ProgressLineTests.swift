@testable import EmuCLI
import Testing

@Suite("the progress line")
struct ProgressLineTests {
    @Test("the first frames show no ETA: a rate from a fraction of a second is noise")
    func noEarlyETA() {
        let first = ProgressLine.text(files: 3, bytes: 20_000, total: 50_000_000_000, elapsed: 0.2)
        #expect(!first.contains("ETA"), "\(first)")
        #expect(first.hasPrefix("3 files, "))
        let later = ProgressLine.text(files: 300, bytes: 2_000_000_000, total: 4_000_000_000, elapsed: 10)
        #expect(later.contains("50%, ETA 10s"), "\(later)")
        #expect(ProgressLine.text(files: 1, bytes: 1, total: nil, elapsed: 1).hasPrefix("1 file, "))
    }

    @Test("the first second shows no rate: it measures the cache, not the link")
    func noEarlyRate() {
        #expect(ProgressLine.text(files: 3, bytes: 3_000_000_000, total: nil, elapsed: 0.2) == "3 files, 2.8 GiB")
        #expect(ProgressLine.text(files: 3, bytes: 3_000_000, total: nil, elapsed: 2).hasSuffix("/s"))
    }
}
