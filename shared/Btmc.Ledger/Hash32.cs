using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace Btmc.Ledger;

/// <summary>A 32-byte SHA-256 value. Stored inline (no heap allocation); compared in constant time.
/// In JSON (System.Text.Json) it is a standard base64 string.</summary>
[JsonConverter(typeof(Hash32JsonConverter))]
public readonly struct Hash32 : IEquatable<Hash32>
{
    /// <summary>The length of a hash in bytes.</summary>
    public const int Size = 32;

    private readonly Hash32Buffer _bytes;

    /// <summary>Creates a hash from exactly <see cref="Size"/> bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not exactly 32 bytes long.</exception>
    public Hash32(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A hash is exactly {Size} bytes; got {bytes.Length}.", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    private Hash32(in Hash32Buffer buffer) => _bytes = buffer;

    /// <summary>The all-zero hash (also <c>default(Hash32)</c>).</summary>
    public static Hash32 Zero => default;

    /// <summary>SHA-256 of <paramref name="data"/>.</summary>
    public static Hash32 Compute(ReadOnlySpan<byte> data)
    {
        Hash32Buffer buffer = default;
        SHA256.HashData(data, buffer);
        return new Hash32(buffer);
    }

    /// <summary>The 32 bytes of the hash. The span refers to this value's own storage.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>Copies the 32 bytes to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination must hold at least {Size} bytes.", nameof(destination));
        }

        AsSpan().CopyTo(destination);
    }

    /// <summary>A new array holding the 32 bytes.</summary>
    public byte[] ToArray() => AsSpan().ToArray();

    /// <summary>Lower-case hexadecimal, 64 characters.</summary>
    public string ToHex() => Convert.ToHexStringLower(AsSpan());

    /// <summary>Standard base64 with padding (RFC 4648 section 4), 44 characters.</summary>
    public string ToBase64() => Convert.ToBase64String(AsSpan());

    /// <summary>Parses 64 hexadecimal characters (either case).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="hex"/> is null.</exception>
    /// <exception cref="FormatException">The text is not 64 hexadecimal characters.</exception>
    public static Hash32 FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        return TryFromHex(hex, out var hash)
            ? hash
            : throw new FormatException($"A hash in hex is exactly {Size * 2} hexadecimal characters.");
    }

    /// <summary>Parses 64 hexadecimal characters (either case); false when the text is not exactly that.</summary>
    public static bool TryFromHex(ReadOnlySpan<char> hex, out Hash32 hash)
    {
        hash = default;
        if (hex.Length != Size * 2)
        {
            return false;
        }

        Hash32Buffer buffer = default;
        var status = Convert.FromHexString(hex, buffer, out _, out var written);
        if (status != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        hash = new Hash32(buffer);
        return true;
    }

    /// <summary>Parses standard base64 that decodes to exactly 32 bytes.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="b64"/> is null.</exception>
    /// <exception cref="FormatException">The text is not base64 of exactly 32 bytes.</exception>
    public static Hash32 FromBase64(string b64)
    {
        ArgumentNullException.ThrowIfNull(b64);
        return TryFromBase64(b64, out var hash)
            ? hash
            : throw new FormatException($"A hash in base64 decodes to exactly {Size} bytes.");
    }

    /// <summary>Parses standard base64 that decodes to exactly 32 bytes; false otherwise.</summary>
    public static bool TryFromBase64(ReadOnlySpan<char> b64, out Hash32 hash)
    {
        hash = default;
        Hash32Buffer buffer = default;
        if (!Convert.TryFromBase64Chars(b64, buffer, out var written) || written != Size)
        {
            return false;
        }

        hash = new Hash32(buffer);
        return true;
    }

    /// <summary>Constant-time comparison of the 32 bytes.</summary>
    public bool Equals(Hash32 other) => CryptographicOperations.FixedTimeEquals(AsSpan(), other.AsSpan());

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Hash32 other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(AsSpan());

    /// <summary>Lower-case hexadecimal.</summary>
    public override string ToString() => ToHex();

    public static bool operator ==(Hash32 left, Hash32 right) => left.Equals(right);

    public static bool operator !=(Hash32 left, Hash32 right) => !left.Equals(right);
}

/// <summary>Inline storage for <see cref="Hash32"/>.</summary>
[InlineArray(Hash32.Size)]
internal struct Hash32Buffer
{
    private byte _element0;
}
