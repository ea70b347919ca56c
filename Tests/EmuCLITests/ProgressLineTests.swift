@testable import EmuCLI
import Testing

@Suite("the progress line")
struct ProgressLineTests {
    @Test("the first frames show no ETA: a rate from a fraction of a second is noise")
    func noEarlyETA() {
        let first = ProgressLine.text(files: 3, bytes: 20_000, total: ProgressTotal(bytes: 50_000_000_000), elapsed: 0.2)
        #expect(!first.contains("ETA"), "\(first)")
        #expect(first.hasPrefix("3 files, "))
        let later = ProgressLine.text(files: 300, bytes: 2_000_000_000, total: ProgressTotal(bytes: 4_000_000_000), elapsed: 10)
        #expect(later.contains("50%, ETA 10s"), "\(later)")
        #expect(ProgressLine.text(files: 1, bytes: 1, total: nil, elapsed: 1).hasPrefix("1 file, "))
    }

    @Test("the first second shows no rate: it measures the cache, not the link")
    func noEarlyRate() {
        #expect(ProgressLine.text(files: 3, bytes: 3_000_000_000, total: nil, elapsed: 0.2) == "3 files, 2.8 GiB")
        #expect(ProgressLine.text(files: 3, bytes: 3_000_000, total: nil, elapsed: 2).hasSuffix("/s"))
    }

    @Test("a push estimates from the newest snapshot's counts, says a first push has none, and gives no percentage past the estimate")
    func estimates() {
        let newest = ProgressTotal(files: 1000, bytes: 4_000_000_000, isExact: false)
        #expect(ProgressLine.text(files: 500, bytes: 1_000_000_000, total: newest, elapsed: 10).hasSuffix(", 25%, ETA 30s"))
        let byFiles = ProgressTotal(files: 1000, bytes: 0, isExact: false)
        #expect(ProgressLine.text(files: 500, bytes: 0, total: byFiles, elapsed: 10).hasSuffix(", 50%, ETA 10s"), "empty files: counted by files")
        let grown = ProgressLine.text(files: 1500, bytes: 5_000_000_000, total: newest, elapsed: 10)
        #expect(grown.hasSuffix(", more than the newest snapshot held") && !grown.contains("%"), "\(grown)")
        let first = ProgressLine.text(files: 5, bytes: 5_000_000, total: .estimate(from: nil), elapsed: 10)
        #expect(first.hasSuffix("/s (first push: no estimate)"), "\(first)")
    }
}
