using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Btmc.Compute.Mining;

/// <summary>
/// The header a contributor hashes (docs/compute.md, "Shares"), 78 bytes:
/// <c>"BTMJ" | u8 version (1) | u8 difficulty bits | u64 issued (Unix seconds) | SHA-256(contributor id) | seed</c>,
/// integers big-endian, where <c>seed = HMAC-SHA256(job secret, "BTMC-JOB-1" | u16 len | contributor | u64 issued | u8 bits)</c>.
/// The seed makes jobs unpredictable and lets the backend check a job without storing it; the contributor's hash
/// binds the work to them.
/// </summary>
public sealed record MiningJobHeader(int DifficultyBits, DateTimeOffset Issued, string Contributor, byte[] Bytes)
{
    public const int Size = 4 + 1 + 1 + 8 + 32 + 32;

    private static ReadOnlySpan<byte> Magic => "BTMJ"u8;

    /// <summary>A new job for <paramref name="contributor"/>, issued at <paramref name="issued"/> (whole seconds).</summary>
    public static MiningJobHeader Issue(ReadOnlySpan<byte> secret, string contributor, int difficultyBits, DateTimeOffset issued)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(difficultyBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(difficultyBits, 64);
        var seconds = issued.ToUnixTimeSeconds();
        var bytes = new byte[Size];
        Magic.CopyTo(bytes);
        bytes[4] = 1;
        bytes[5] = (byte)difficultyBits;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(6), seconds);
        SHA256.HashData(Encoding.UTF8.GetBytes(contributor), bytes.AsSpan(14, 32));
        Seed(secret, contributor, seconds, difficultyBits, bytes.AsSpan(46, 32));
        return new MiningJobHeader(difficultyBits, DateTimeOffset.FromUnixTimeSeconds(seconds), contributor, bytes);
    }

    /// <summary>Reads a header a contributor sent back and checks it is one the backend issued to them (constant-time seed check).</summary>
    /// <exception cref="FormatException">Not a header, another contributor's, or not issued with this secret.</exception>
    public static MiningJobHeader Verify(ReadOnlySpan<byte> secret, string contributor, ReadOnlySpan<byte> header)
    {
        if (header.Length != Size || !header[..4].SequenceEqual(Magic) || header[4] != 1 || header[5] is < 1 or > 64)
        {
            throw new FormatException($"A job header is {Size} bytes starting \"BTMJ\", version 1, 1..64 difficulty bits.");
        }

        Span<byte> expected = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(contributor), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, header.Slice(14, 32)))
        {
            throw new FormatException("The job header was issued to another contributor.");
        }

        var seconds = BinaryPrimitives.ReadInt64BigEndian(header[6..]);
        Seed(secret, contributor, seconds, header[5], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, header.Slice(46, 32)))
        {
            throw new FormatException("The job header was not issued by this backend.");
        }

        return new MiningJobHeader(header[5], DateTimeOffset.FromUnixTimeSeconds(seconds), contributor, header.ToArray());
    }

    /// <summary>A short stable name of the job: the first 16 bytes of SHA-256(header), hex.</summary>
    public string JobKey => Convert.ToHexStringLower(SHA256.HashData(Bytes).AsSpan(0, 16));

    /// <summary>The work a share of this job is worth: 2^bits expected hashes.</summary>
    public UInt128 ShareWork => UInt128.One << DifficultyBits;

    private static void Seed(ReadOnlySpan<byte> secret, string contributor, long seconds, int bits, Span<byte> destination)
    {
        var id = Encoding.UTF8.GetBytes(contributor);
        var message = new byte[10 + 2 + id.Length + 8 + 1];
        "BTMC-JOB-1"u8.CopyTo(message);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), (ushort)id.Length);
        id.CopyTo(message.AsSpan(12));
        BinaryPrimitives.WriteInt64BigEndian(message.AsSpan(12 + id.Length), seconds);
        message[^1] = (byte)bits;
        HMACSHA256.HashData(secret, message, destination);
    }
}
