using System.Buffers.Binary;
using System.Security.Cryptography;
using Btmc.Compute.Mining;

namespace Btmc.Compute.Jobs;

/// <summary>
/// The nonce-range search of a hashing task (docs/compute-jobs.md, "Hashing"): every nonce of
/// <c>start .. start + count − 1</c> whose share hash (<see cref="ShareHash"/>: SHA-256(SHA-256(header ‖ u64 nonce,
/// big-endian))) has at least <c>bits</c> leading zero bits. The range is cut into one contiguous slice per thread;
/// each thread hashes with its own <see cref="IncrementalHash"/> over one stack buffer, allocating nothing per nonce.
/// </summary>
public static class NonceSearch
{
    /// <summary>Most difficulty bits: a 256-bit hash.</summary>
    public const int MaxBits = 256;

    /// <summary>How often (in nonces) a thread looks at the cancellation token.</summary>
    private const ulong CancellationStride = 1 << 16;

    /// <summary>The nonces of the range that meet <paramref name="bits"/>, ascending.</summary>
    /// <param name="header">The bytes before the nonce, at most <see cref="ShareHash.MaxHeaderSize"/>.</param>
    /// <param name="bits">Leading zero bits a hash needs, 1..256.</param>
    /// <param name="start">The first nonce.</param>
    /// <param name="count">How many nonces, at least 1; <c>start + count − 1</c> must not pass <see cref="ulong.MaxValue"/>.</param>
    /// <param name="threads">Threads sharing the range (at most one per nonce).</param>
    /// <param name="cancellationToken">Stops the search.</param>
    /// <exception cref="ArgumentException">The header is too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">bits, count or threads out of range, or the range passes the largest nonce.</exception>
    public static ulong[] Search(ReadOnlySpan<byte> header, int bits, ulong start, ulong count, int threads, CancellationToken cancellationToken = default)
    {
        if (header.Length > ShareHash.MaxHeaderSize)
        {
            throw new ArgumentException($"A header is at most {ShareHash.MaxHeaderSize} bytes.", nameof(header));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, MaxBits);
        ArgumentOutOfRangeException.ThrowIfZero(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count - 1, ulong.MaxValue - start, nameof(count));

        var headerCopy = header.ToArray();
        var slices = (int)Math.Min((ulong)threads, count);
        var found = new List<ulong>?[slices];
        var share = count / (ulong)slices;
        var extra = count % (ulong)slices;
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = slices, CancellationToken = cancellationToken }, slice =>
        {
            // Slice k holds share nonces, plus one for the first (count mod slices) slices.
            var k = (ulong)slice;
            var from = start + (k * share) + Math.Min(k, extra);
            var length = share + (k < extra ? 1UL : 0UL);
            found[slice] = SearchSlice(headerCopy, bits, from, length, cancellationToken);
        });

        var all = new List<ulong>();
        foreach (var slice in found)
        {
            if (slice is not null)
            {
                all.AddRange(slice);
            }
        }

        // Slices are contiguous and in order, each ascending: the concatenation is sorted.
        return [.. all];
    }

    private static List<ulong>? SearchSlice(byte[] header, int bits, ulong from, ulong length, CancellationToken cancellationToken)
    {
        Span<byte> preimage = stackalloc byte[ShareHash.MaxHeaderSize + sizeof(ulong)];
        header.CopyTo(preimage);
        var message = preimage[..(header.Length + sizeof(ulong))];
        var nonceBytes = preimage.Slice(header.Length, sizeof(ulong));
        Span<byte> first = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> second = stackalloc byte[SHA256.HashSizeInBytes];
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        List<ulong>? found = null;
        for (var i = 0UL; i < length; i++)
        {
            if (i % CancellationStride == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var nonce = from + i;
            BinaryPrimitives.WriteUInt64BigEndian(nonceBytes, nonce);
            sha256.AppendData(message);
            sha256.GetHashAndReset(first);
            sha256.AppendData(first);
            sha256.GetHashAndReset(second);
            if (ShareHash.LeadingZeroBits(second) >= bits)
            {
                (found ??= []).Add(nonce);
            }
        }

        return found;
    }
}
