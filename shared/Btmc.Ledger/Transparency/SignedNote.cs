using System.Buffers.Binary;
using System.Text;

namespace Btmc.Ledger.Transparency;

/// <summary>One signature line of a note: the key name, the 32-bit key ID and the signature bytes after it.</summary>
public sealed record NoteSignature(string KeyName, uint KeyId, byte[] Signature)
{
    /// <summary>The line as it appears in the note, without its newline: <c>— name base64(key ID || signature)</c>.</summary>
    public string ToLine()
    {
        var bytes = new byte[4 + Signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, KeyId);
        Signature.CopyTo(bytes, 4);
        return $"{SignedNote.Dash} {KeyName} {Convert.ToBase64String(bytes)}";
    }
}

/// <summary>
/// A C2SP signed note (c2sp.org/signed-note@v1.0.0): a UTF-8 text ending in a newline, a blank line, then one or more
/// signature lines. Parsing is strict — valid UTF-8, no control characters but newline, key names without spaces or
/// plus signs, standard base64 of at least the 4-byte key ID — and keeps the text byte for byte, because the text is
/// what every signature covers.
/// </summary>
public sealed record SignedNote(string Text, IReadOnlyList<NoteSignature> Signatures)
{
    /// <summary>The em dash (U+2014) that starts a signature line.</summary>
    public const char Dash = '\u2014';

    /// <summary>The most signatures a note may carry (the spec asks verifiers to accept at least 16).</summary>
    public const int MaxSignatures = 64;

    /// <summary>The largest note accepted, in bytes.</summary>
    public const int MaxBytes = 64 * 1024;

    private static readonly UTF8Encoding s_strictUtf8 = new(false, true);

    /// <summary>The note text as signed: its UTF-8 bytes.</summary>
    public byte[] TextBytes => s_strictUtf8.GetBytes(Text);

    /// <summary>The whole note: text, blank line, signature lines.</summary>
    public string Format()
    {
        var builder = new StringBuilder(Text).Append('\n');
        foreach (var signature in Signatures)
        {
            builder.Append(signature.ToLine()).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>This note with one more signature line (a cosignature), unless the same name and key ID signed it already.</summary>
    public SignedNote WithSignature(NoteSignature signature) =>
        Signatures.Any(s => s.KeyName == signature.KeyName && s.KeyId == signature.KeyId)
            ? this
            : this with { Signatures = [.. Signatures, signature] };

    /// <summary>Parses a note.</summary>
    /// <exception cref="FormatException">It is not a well-formed signed note; the message says where.</exception>
    public static SignedNote Parse(string note)
    {
        ArgumentNullException.ThrowIfNull(note);
        if (Encoding.UTF8.GetByteCount(note) > MaxBytes)
        {
            throw new FormatException($"The note is larger than {MaxBytes} bytes.");
        }

        if (!IsWellFormed(note))
        {
            throw new FormatException("The note is not valid UTF-8 text.");
        }

        foreach (var c in note)
        {
            if (c < 0x20 && c != '\n')
            {
                throw new FormatException($"The note holds the control character U+{(int)c:X4}.");
            }
        }

        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new FormatException("The note has no blank line between its text and its signatures.");
        }

        var text = note[..(split + 1)];
        var lines = note[(split + 2)..];
        if (!lines.EndsWith('\n'))
        {
            throw new FormatException("The note's last signature line does not end with a newline.");
        }

        var signatures = new List<NoteSignature>();
        foreach (var line in lines[..^1].Split('\n'))
        {
            signatures.Add(ParseSignatureLine(line));
            if (signatures.Count > MaxSignatures)
            {
                throw new FormatException($"The note has more than {MaxSignatures} signatures.");
            }
        }

        return new SignedNote(text, signatures);
    }

    /// <summary>A key name is non-empty and holds no Unicode space and no plus sign.</summary>
    public static bool IsValidKeyName(string name) =>
        !string.IsNullOrEmpty(name) && !name.Any(c => char.IsWhiteSpace(c) || c == '+' || c < 0x20);

    private static NoteSignature ParseSignatureLine(string line)
    {
        if (line.Length < 2 || line[0] != Dash || line[1] != ' ')
        {
            throw new FormatException($"A signature line must start with \"{Dash} \": '{Truncate(line)}'.");
        }

        var rest = line[2..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            throw new FormatException($"A signature line is \"{Dash} <key name> <base64>\": '{Truncate(line)}'.");
        }

        var name = rest[..space];
        if (!IsValidKeyName(name))
        {
            throw new FormatException($"The key name '{Truncate(name)}' is empty or holds a space or a plus sign.");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(rest[(space + 1)..]);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"The signature of '{name}' is not standard base64.", ex);
        }

        if (bytes.Length < 5 || Convert.ToBase64String(bytes) != rest[(space + 1)..])
        {
            throw new FormatException($"The signature of '{name}' must be canonical base64 of a 4-byte key ID and a signature.");
        }

        return new NoteSignature(name, BinaryPrimitives.ReadUInt32BigEndian(bytes), bytes[4..]);
    }

    private static bool IsWellFormed(string value)
    {
        try
        {
            _ = s_strictUtf8.GetByteCount(value);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static string Truncate(string value) => value.Length <= 60 ? value : value[..60] + "…";
}
