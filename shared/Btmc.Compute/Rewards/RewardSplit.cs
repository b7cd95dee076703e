using System.Numerics;

namespace Btmc.Compute.Rewards;

/// <summary>
/// Splits an epoch's pool pro rata to weights (docs/compute.md, "Rewards"), in integers: each gets
/// floor(pool × w / W); what is left (fewer tokens than recipients) goes one each to the largest remainders, ties by
/// contributor id (ordinal). The payouts sum to the pool exactly when any weight is positive.
/// </summary>
public static class RewardSplit
{
    public static IReadOnlyDictionary<string, long> Split(long pool, IReadOnlyDictionary<string, UInt128> weights)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pool);
        var total = weights.Values.Aggregate(BigInteger.Zero, (sum, w) => sum + (BigInteger)w);
        var payouts = weights.Keys.ToDictionary(k => k, _ => 0L, StringComparer.Ordinal);
        if (total.IsZero)
        {
            return payouts;
        }

        var remainders = new List<(string Id, BigInteger Remainder)>();
        long paid = 0;
        foreach (var (id, weight) in weights)
        {
            var share = BigInteger.DivRem((BigInteger)pool * (BigInteger)weight, total, out var remainder);
            payouts[id] = (long)share;
            paid += (long)share;
            remainders.Add((id, remainder));
        }

        foreach (var (id, _) in remainders.OrderByDescending(r => r.Remainder).ThenBy(r => r.Id, StringComparer.Ordinal).Take((int)(pool - paid)))
        {
            payouts[id]++;
        }

        return payouts;
    }
}
