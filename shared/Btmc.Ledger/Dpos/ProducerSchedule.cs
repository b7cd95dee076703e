using System.Buffers.Binary;
using System.Text;

namespace Btmc.Ledger.Dpos;

/// <summary>
/// Who produces each slot of a round (docs/dpos.md). Pure: the same candidates and seed always give the same slots.
/// <list type="number">
/// <item>Rank the candidates by votes, most first, ties by producer id (ordinal, ASCII).</item>
/// <item>Elect the first <c>SlotsPerRound − 1</c> (50) of them.</item>
/// <item>If any of the rest has votes, elect one more among those, with probability proportional to votes.</item>
/// <item>Shuffle the elected (Fisher–Yates, last position first) and give slot <c>i</c> to <c>elected[i mod k]</c>.</item>
/// </list>
/// Every random choice is drawn from <see cref="ScheduleDraws"/> over the round's <see cref="Seed"/>.
/// </summary>
public static class ProducerSchedule
{
    /// <summary>The ASCII tag that starts every seed preimage.</summary>
    public const string SeedTag = "BTMC-DPOS-SEED-1";

    /// <summary>The longest producer id.</summary>
    public const int MaxProducerIdLength = 64;

    /// <summary>
    /// The seed of one chain's round: <c>SHA-256("BTMC-DPOS-SEED-1" ‖ u16 len ‖ domain ‖ u16 len ‖ chain id ‖ u64 round ‖
    /// u16 len ‖ previous signature)</c>, strings in UTF-8, integers big-endian. The previous signature is that of the
    /// chain's last block before the round (empty when there is none): random, and unknown until that block is signed.
    /// </summary>
    public static Hash32 Seed(string domain, string chainId, long round, ReadOnlySpan<byte> previousSignature)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        ArgumentException.ThrowIfNullOrEmpty(chainId);
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        var domainBytes = Encoding.UTF8.GetBytes(domain);
        var chainBytes = Encoding.UTF8.GetBytes(chainId);
        if (domainBytes.Length > ushort.MaxValue || chainBytes.Length > ushort.MaxValue || previousSignature.Length > ushort.MaxValue)
        {
            throw new ArgumentException("A seed input is longer than 65535 bytes.");
        }

        var preimage = new byte[SeedTag.Length + 2 + domainBytes.Length + 2 + chainBytes.Length + 8 + 2 + previousSignature.Length];
        var span = preimage.AsSpan();
        var at = Encoding.ASCII.GetBytes(SeedTag, span);
        at += WriteBytes(span[at..], domainBytes);
        at += WriteBytes(span[at..], chainBytes);
        BinaryPrimitives.WriteUInt64BigEndian(span[at..], (ulong)round);
        at += 8;
        WriteBytes(span[at..], previousSignature);
        return Hash32.Compute(preimage);
    }

    /// <summary>The producer of each slot of the round, <paramref name="slotsPerRound"/> entries.</summary>
    /// <exception cref="ArgumentException">No candidates, a duplicate or malformed producer id, or negative votes.</exception>
    public static IReadOnlyList<ProducerCandidate> Draw(IReadOnlyCollection<ProducerCandidate> candidates, Hash32 seed, int slotsPerRound = SlotClock.DefaultSlotsPerRound)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotsPerRound, 1);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("There are no producer candidates.", nameof(candidates));
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var candidate in candidates)
        {
            if (!IsValidProducerId(candidate.ProducerId) || !ids.Add(candidate.ProducerId))
            {
                throw new ArgumentException($"Producer id '{candidate.ProducerId}' is malformed or given twice.", nameof(candidates));
            }

            ArgumentOutOfRangeException.ThrowIfNegative(candidate.Votes, nameof(candidates));
        }

        var ranked = candidates.OrderByDescending(c => c.Votes).ThenBy(c => c.ProducerId, StringComparer.Ordinal).ToList();
        var byRank = Math.Max(1, slotsPerRound - 1);
        var elected = ranked.Take(byRank).ToList();
        var draws = new ScheduleDraws(seed);
        var standby = ranked.Skip(byRank).Where(c => c.Votes > 0).ToList();
        if (standby.Count > 0 && elected.Count < slotsPerRound)
        {
            var total = standby.Aggregate(0UL, (sum, c) => checked(sum + (ulong)c.Votes));
            var target = draws.Uniform(total);
            var cumulative = 0UL;
            foreach (var candidate in standby)
            {
                cumulative += (ulong)candidate.Votes;
                if (target < cumulative)
                {
                    elected.Add(candidate);
                    break;
                }
            }
        }

        for (var i = elected.Count - 1; i >= 1; i--)
        {
            var j = (int)draws.Uniform((ulong)i + 1);
            (elected[i], elected[j]) = (elected[j], elected[i]);
        }

        var slots = new ProducerCandidate[slotsPerRound];
        for (var s = 0; s < slotsPerRound; s++)
        {
            slots[s] = elected[s % elected.Count];
        }

        return slots;
    }

    /// <summary>Producer ids are 1..64 characters of lower-case ASCII letters, digits, '.', '_' and '-', starting with a
    /// letter or digit; <c>none</c> is reserved (a vote for no producer).</summary>
    public static bool IsValidProducerId(string? id) =>
        id is { Length: > 0 and <= MaxProducerIdLength } and not "none"
        && (char.IsAsciiLetterLower(id[0]) || char.IsAsciiDigit(id[0]))
        && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-');

    private static int WriteBytes(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)value.Length);
        value.CopyTo(destination[2..]);
        return 2 + value.Length;
    }
}
