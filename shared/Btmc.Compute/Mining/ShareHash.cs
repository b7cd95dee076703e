using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Btmc.Compute.Mining;

/// <summary>
/// Proof of work of a share (docs/compute.md, "Shares"): <c>hash = SHA-256(SHA-256(header ‖ u64 nonce, big-endian))</c>;
/// the share is valid when the hash, read as a 256-bit big-endian number, has at least the header's difficulty bits
/// of leading zeros, i.e. is at most the share target <c>2^(256 − bits) − 1</c>.
/// </summary>
public static class ShareHash
{
    /// <summary>The largest header hashed (a job header).</summary>
    public const int MaxHeaderSize = 128;

    /// <summary>Writes the double SHA-256 of header ‖ nonce to <paramref name="hash"/> (32 bytes). No allocation.</summary>
    public static void Compute(ReadOnlySpan<byte> header, ulong nonce, Span<byte> hash)
    {
        if (header.Length > MaxHeaderSize)
        {
            throw new ArgumentException($"A header is at most {MaxHeaderSize} bytes.", nameof(header));
        }

        Span<byte> preimage = stackalloc byte[MaxHeaderSize + 8];
        header.CopyTo(preimage);
        BinaryPrimitives.WriteUInt64BigEndian(preimage[header.Length..], nonce);
        Span<byte> first = stackalloc byte[32];
        SHA256.HashData(preimage[..(header.Length + 8)], first);
        SHA256.HashData(first, hash);
    }

    /// <summary>Leading zero bits of a 32-byte hash read big-endian (256 for all zeros).</summary>
    public static int LeadingZeroBits(ReadOnlySpan<byte> hash)
    {
        var bits = 0;
        for (var i = 0; i < hash.Length; i += 8)
        {
            var word = BinaryPrimitives.ReadUInt64BigEndian(hash[i..]);
            if (word != 0)
            {
                return bits + BitOperations.LeadingZeroCount(word);
            }

            bits += 64;
        }

        return bits;
    }

    /// <summary>Whether header ‖ nonce meets <paramref name="difficultyBits"/>.</summary>
    public static bool Meets(ReadOnlySpan<byte> header, ulong nonce, int difficultyBits)
    {
        Span<byte> hash = stackalloc byte[32];
        Compute(header, nonce, hash);
        return LeadingZeroBits(hash) >= difficultyBits;
    }
}
