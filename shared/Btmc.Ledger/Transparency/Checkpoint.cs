using System.Globalization;
using System.Text;

namespace Btmc.Ledger.Transparency;

/// <summary>
/// The body of a C2SP checkpoint (c2sp.org/tlog-checkpoint@v1.0.0): the origin, the tree size in leaves (entries), the
/// RFC 9162 root hash in standard base64, then optional extension lines. BTMC writes one extension line,
/// <c>block &lt;height&gt; &lt;block hash hex&gt;</c>, naming the block whose commit produced this size, so a
/// checkpoint ties the chain-wide tree to the hash-linked blocks; witnesses make no statement about it.
/// </summary>
public sealed record Checkpoint(string Origin, long Size, Hash32 RootHash, IReadOnlyList<string> Extensions)
{
    /// <summary>The prefix of BTMC's extension line.</summary>
    public const string BlockExtension = "block ";

    /// <summary>A checkpoint of a chain's tree committed by block <paramref name="height"/>.</summary>
    public static Checkpoint ForBlock(string origin, long size, Hash32 root, long height, Hash32 blockHash) =>
        new(origin, size, root, [$"{BlockExtension}{height.ToString(CultureInfo.InvariantCulture)} {blockHash.ToHex()}"]);

    /// <summary>The block this checkpoint names in its extension line, if it names one.</summary>
    public (long Height, Hash32 BlockHash)? Block
    {
        get
        {
            foreach (var line in Extensions)
            {
                var parts = line.Split(' ');
                if (parts is ["block", var height, var hash]
                    && long.TryParse(height, NumberStyles.None, CultureInfo.InvariantCulture, out var h)
                    && Hash32.TryFromHex(hash, out var blockHash))
                {
                    return (h, blockHash);
                }
            }

            return null;
        }
    }

    /// <summary>The note text: every line newline-terminated.</summary>
    /// <exception cref="ArgumentException">The origin or an extension line is empty or holds a newline; the size is negative.</exception>
    public string ToText()
    {
        if (string.IsNullOrEmpty(Origin) || Origin.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("The origin must be one non-empty line.", nameof(Origin));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Size);
        var builder = new StringBuilder()
            .Append(Origin).Append('\n')
            .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(RootHash.ToBase64()).Append('\n');
        foreach (var line in Extensions)
        {
            if (string.IsNullOrEmpty(line) || line.Contains('\n', StringComparison.Ordinal))
            {
                throw new ArgumentException("Extension lines must be non-empty single lines.", nameof(Extensions));
            }

            builder.Append(line).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>Reads a note text (or a signed note's text) as a checkpoint, strictly.</summary>
    /// <exception cref="FormatException">Fewer than three lines, an empty line, a size with leading zeroes or out of range, a root that is not 32 bytes of canonical base64.</exception>
    public static Checkpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.EndsWith('\n'))
        {
            throw new FormatException("A checkpoint's text ends with a newline.");
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new FormatException($"A checkpoint has at least three lines (origin, size, root hash); this one has {lines.Length}.");
        }

        if (lines.Any(l => l.Length == 0))
        {
            throw new FormatException("A checkpoint has no empty lines.");
        }

        var sizeText = lines[1];
        if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || (sizeText.Length > 1 && sizeText[0] == '0'))
        {
            throw new FormatException($"The tree size '{sizeText}' is not a decimal number without leading zeroes.");
        }

        if (!Hash32.TryFromBase64(lines[2], out var root) || root.ToBase64() != lines[2])
        {
            throw new FormatException($"The root hash '{lines[2]}' is not 32 bytes of canonical base64.");
        }

        return new Checkpoint(lines[0], size, root, lines[3..]);
    }

    /// <summary>Equal origin, size, root and extension lines.</summary>
    public bool SameAs(Checkpoint other) =>
        other is not null && Origin == other.Origin && Size == other.Size && RootHash == other.RootHash && Extensions.SequenceEqual(other.Extensions);
}
