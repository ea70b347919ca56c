@testable import EmuCore
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("short IDs")
struct ShortIDTests {
    @Test("the short form shown is unique among a sink's snapshots: 12 digits, more when IDs share them")
    func uniqueShortIDs() {
        let date = Timestamp(seconds: 1_800_000_000)
        let ids = ["6b0993" + String(repeating: "a", count: 34), "6b0993aaaaaaab" + String(repeating: "0", count: 26),
                   "0123456789" + String(repeating: "f", count: 30)]
        let short = Snapshot.uniqueShortIDs(ids.map { Snapshot(id: $0, parent: nil, date: date) })
        #expect(short[ids[0]] == "6b0993aaaaaaaa")
        #expect(short[ids[1]] == "6b0993aaaaaaab")
        #expect(short[ids[2]] == "0123456789ff")
    }

    /// One push to two sinks makes two IDs of one second (their parents
    /// differ): shown by their first 8 digits, they looked like one.
    @Test("the short form tells apart two snapshots of one second: the date's 8 digits and 4 of the digest")
    func sameSecond() {
        let date = Timestamp(seconds: 1_800_000_000)
        let manifest = ContentHash(hex: Array(String(repeating: "1", count: 64).utf8))!
        let usb = Snapshot(id: Snapshot.makeID(date: date, manifest: manifest, parent: nil), parent: nil, date: date)
        let nas = Snapshot(id: Snapshot.makeID(date: date, manifest: manifest, parent: "6b0993aa"), parent: "6b0993aa", date: date)
        #expect(usb.id.prefix(8) == nas.id.prefix(8), "the same second")
        #expect(usb.shortID != nas.shortID && usb.shortID.count == 12 && usb.id.hasPrefix(usb.shortID))
    }
}
