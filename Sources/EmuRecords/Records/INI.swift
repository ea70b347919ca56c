import EmuPOSIX

/// An INI document as emu 0.2.5 wrote them (ConfigParser): `[Section]`
/// headers, `key = value` or `key: value` lines, `#` and `;` comments.
/// Sections and keys keep their order, so a file written back reads the same;
/// keys are matched without regard to case, as ConfigParser does.
public struct INIDocument: Sendable, Equatable {
    public struct Section: Sendable, Equatable {
        public var name: String
        public var entries: [(key: String, value: String)]

        public static func == (a: Section, b: Section) -> Bool {
            a.name == b.name && a.entries.elementsEqual(b.entries) { $0.key == $1.key && $0.value == $1.value }
        }
    }

    public private(set) var sections: [Section] = []

    public init() {}

    /// Parses text; a line that is neither a header, an entry nor a comment
    /// is an error naming its line number.
    public init(parsing text: String) throws(EmuError) {
        var current: Int? = nil
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // A carriage return inside a line reads as the space it is written as (see `text`).
            let line = rawLine.trimmingWhitespace().replacingNewlines()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = String(line.dropFirst().dropLast()).trimmingWhitespace()
                sections.append(Section(name: name, entries: []))
                current = sections.count - 1
                continue
            }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }), let section = current else {
                throw .failed("line \(number + 1) is not `key = value` under a [section]: \(Printable.path(String(line).fileSystemBytes))")
            }
            let key = String(line[..<separator]).trimmingWhitespace()
            let value = String(line[line.index(after: separator)...]).trimmingWhitespace()
            sections[section].entries.append((key, value))
        }
    }

    public subscript(section: String, key: String) -> String? {
        get {
            guard let s = sections.firstIndex(where: { $0.name.lowercased() == section.lowercased() }) else { return nil }
            return sections[s].entries.last { $0.key.lowercased() == key.lowercased() }?.value
        }
        set {
            var s = sections.firstIndex { $0.name.lowercased() == section.lowercased() }
            if s == nil, newValue != nil {
                sections.append(Section(name: section, entries: []))
                s = sections.count - 1
            }
            guard let s else { return }
            let existing = sections[s].entries.firstIndex { $0.key.lowercased() == key.lowercased() }
            switch (existing, newValue) {
            case (let i?, let value?): sections[s].entries[i].value = value
            case (nil, let value?): sections[s].entries.append((key, value))
            case (let i?, nil): sections[s].entries.remove(at: i)
            case (nil, nil): break
            }
        }
    }

    /// Removes a whole section (a forgotten sink's connection settings).
    public mutating func removeSection(_ name: String) {
        sections.removeAll { $0.name.lowercased() == name.lowercased() }
    }

    /// The document as text. Every name and value is written as one line
    /// (see `replacingNewlines`): a value that came from a client or a user
    /// (a source path, a message) can add no line, key or section.
    public var text: String {
        sections.map { section in
            "[\(section.name.replacingNewlines())]\n" + section.entries.map { "\($0.key.replacingNewlines()) = \($0.value.replacingNewlines())\n" }.joined()
        }.joined(separator: "\n")
    }
}

extension StringProtocol {
    package func trimmingWhitespace() -> String {
        let text = String(self)
        guard let first = text.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = text.lastIndex { !$0.isWhitespace }!
        return String(text[first...last])
    }
}
