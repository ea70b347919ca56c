import EmuPOSIX
import EmuRecords

/// What never goes into a snapshot, as `SOURCE/.emu/excludes` and
/// `push --exclude` say it, in rsync filter style: the first rule that
/// matches a path decides; `- PATTERN` excludes, `+ PATTERN` re-includes, a
/// bare line excludes.
///
/// Patterns are globs on name bytes: `*` and `?` within one component,
/// `[...]` classes, `**` across directories (`a/**/b` also matches `a/b`).
/// A leading `/` anchors a pattern to the source root; a trailing `/` makes
/// it match directories only; a pattern without `/` or `**` matches a name
/// at any depth, one with them matches whole trailing components.
public struct ExcludeRules: Sendable {
    public struct Rule: Sendable, Equatable {
        public var includes: Bool
        package var pattern: [UInt8]
        package var anchored: Bool
        package var directoriesOnly: Bool
        package var matchesName: Bool
    }

    public private(set) var rules: [Rule] = []

    public init() {}

    /// Parses an excludes file; `origin` names it in errors.
    public init(parsing text: String, origin: String) throws(EmuError) {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do throws(EmuError) {
                try add(trimmed)
            } catch {
                throw .usage("\(origin) line \(number + 1): \(error.message)", fix: error.fix)
            }
        }
    }

    /// Adds one rule: `- PATTERN`, `+ PATTERN`, or a bare pattern (excluded).
    public mutating func add(_ line: String) throws(EmuError) {
        var includes = false
        var text = Substring(line)
        if text == "-" || text == "+" { text = "" }
        if text.hasPrefix("+ ") { includes = true; text = text.dropFirst(2) }
        else if text.hasPrefix("- ") { text = text.dropFirst(2) }
        var pattern = String(text).fileSystemBytes
        guard !pattern.isEmpty else {
            throw .usage("an empty pattern", fix: "write `- PATTERN` or `+ PATTERN` with a glob such as `*.tmp`")
        }
        let anchored = pattern.first == 0x2F
        if anchored { pattern.removeFirst() }
        let directoriesOnly = pattern.last == 0x2F
        while pattern.last == 0x2F { pattern.removeLast() }
        guard !pattern.isEmpty else {
            throw .usage("`\(line)` matches the source root itself", fix: "name something inside the source")
        }
        let matchesName = !anchored && !pattern.contains(0x2F) && !containsDoubleStar(pattern)
        rules.append(Rule(includes: includes, pattern: pattern, anchored: anchored,
                          directoriesOnly: directoriesOnly, matchesName: matchesName))
    }

    /// Rules that each exclude one of `patterns`: a set of globs in the
    /// excludes syntax, which `find` matches paths against.
    public init(patterns: [String]) throws(EmuError) {
        for pattern in patterns { try add("- " + pattern) }
    }

    /// Whether `path` is left out of the snapshot.
    public func isExcluded(_ path: RelativePath, isDirectory: Bool) -> Bool {
        for rule in rules where !rule.directoriesOnly || isDirectory {
            if rule.matches(path.bytes) { return !rule.includes }
        }
        return false
    }
}

extension ExcludeRules.Rule {
    package func matches(_ path: [UInt8]) -> Bool {
        if anchored { return glob(pattern[...], path[...]) }
        if matchesName {
            let start = path.lastIndex(of: 0x2F).map { $0 + 1 } ?? 0
            return glob(pattern[...], path[start...])
        }
        // Unanchored with a slash: any run of whole trailing components.
        var start = path.startIndex
        while true {
            if glob(pattern[...], path[start...]) { return true }
            guard let slash = path[start...].firstIndex(of: 0x2F) else { return false }
            start = slash + 1
        }
    }
}

private func containsDoubleStar(_ pattern: [UInt8]) -> Bool {
    zip(pattern, pattern.dropFirst()).contains { $0 == 0x2A && $1 == 0x2A }
}

/// Matches glob `p` against all of `s`, bytes for bytes.
package func glob(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
    var p = p, s = s
    while let c = p.first {
        switch c {
        case 0x2A:  // *
            if p.dropFirst().first == 0x2A {
                var rest = p.dropFirst(2)
                // `**/` also matches no directory at all.
                if rest.first == 0x2F, glob(rest.dropFirst(), s) { return true }
                while rest.first == 0x2A { rest = rest.dropFirst() }
                var i = s.startIndex
                while true {
                    if glob(rest, s[i...]) { return true }
                    if i == s.endIndex { return false }
                    i += 1
                }
            }
            let rest = p.dropFirst()
            var i = s.startIndex
            while true {
                if glob(rest, s[i...]) { return true }
                if i == s.endIndex || s[i] == 0x2F { return false }
                i += 1
            }
        case 0x3F:  // ?
            guard let b = s.first, b != 0x2F else { return false }
            p = p.dropFirst(); s = s.dropFirst()
        case 0x5B:  // [
            guard let b = s.first, b != 0x2F, let (matched, rest) = matchClass(p.dropFirst(), b) else {
                // An unclosed `[` is a literal byte.
                if s.first == 0x5B, !p.dropFirst().contains(0x5D) { p = p.dropFirst(); s = s.dropFirst(); continue }
                return false
            }
            guard matched else { return false }
            p = rest; s = s.dropFirst()
        case 0x5C:  // backslash: the next byte literally
            let literal = p.dropFirst().first ?? 0x5C
            guard s.first == literal else { return false }
            p = p.dropFirst(2); s = s.dropFirst()
        default:
            guard s.first == c else { return false }
            p = p.dropFirst(); s = s.dropFirst()
        }
    }
    return s.isEmpty
}

/// Matches byte `b` against a class body after `[`; returns whether it
/// matched and the pattern after `]`, or nil when there is no `]`.
private func matchClass(_ body: ArraySlice<UInt8>, _ b: UInt8) -> (Bool, ArraySlice<UInt8>)? {
    var p = body
    var negated = false
    if p.first == 0x21 || p.first == 0x5E { negated = true; p = p.dropFirst() }
    var matched = false
    var first = true
    while let c = p.first {
        if c == 0x5D && !first { return (matched != negated, p.dropFirst()) }
        first = false
        var low = c
        p = p.dropFirst()
        if low == 0x5C, let escaped = p.first { low = escaped; p = p.dropFirst() }
        if p.first == 0x2D, let high = p.dropFirst().first, high != 0x5D {
            if low <= b && b <= high { matched = true }
            p = p.dropFirst(2)
        } else if low == b {
            matched = true
        }
    }
    return nil
}
