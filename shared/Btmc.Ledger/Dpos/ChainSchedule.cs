namespace Btmc.Ledger.Dpos;

/// <summary>
/// One chain's position in the producer schedule: the slot of its last block, and the signature that seeds that
/// block's round. Gives the producer of any later slot. The sealer and <see cref="ChainVerifier"/> both follow a chain
/// with it, so they cannot disagree on who owns a slot. Not thread-safe.
/// </summary>
public sealed class ChainSchedule(DposRules rules, string chainId)
{
    private byte[] _lastSignature = [];
    private byte[] _roundSeedSignature = [];
    private long _cachedRound = -1;
    private IReadOnlyList<ProducerCandidate>? _cachedSlots;

    public DposRules Rules => rules;

    public string ChainId => chainId;

    /// <summary>The slot of the last block followed; null before the first.</summary>
    public long? LastSlot { get; private set; }

    /// <summary>
    /// Starts from a block in the middle of the chain: its slot, its signature, and the signature of the last block
    /// before its round (empty when it is in the chain's first round with blocks).
    /// </summary>
    public void Resume(long slot, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> roundSeedSignature)
    {
        LastSlot = slot;
        _lastSignature = signature.ToArray();
        _roundSeedSignature = roundSeedSignature.ToArray();
        _cachedRound = -1;
    }

    /// <summary>The producer of <paramref name="slot"/>, which must be after <see cref="LastSlot"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The slot is not after the last block's.</exception>
    /// <exception cref="InvalidOperationException">No producer is registered for the slot's round.</exception>
    public ProducerCandidate ProducerOf(long slot)
    {
        if (LastSlot is { } last && slot <= last)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"Slot {slot} is not after the chain's last block's slot {last}.");
        }

        var round = rules.Clock.RoundOf(slot);
        if (round != _cachedRound)
        {
            _cachedSlots = rules.Slots(chainId, round, SeedSignatureFor(round));
            _cachedRound = round;
        }

        return _cachedSlots![rules.Clock.IndexInRound(slot)];
    }

    /// <summary>Follows a block committed at <paramref name="slot"/> with <paramref name="signature"/>.</summary>
    public void Follow(long slot, ReadOnlySpan<byte> signature)
    {
        if (LastSlot is { } last && slot <= last)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"Slot {slot} is not after the chain's last block's slot {last}.");
        }

        _roundSeedSignature = SeedSignatureFor(rules.Clock.RoundOf(slot));
        LastSlot = slot;
        _lastSignature = signature.ToArray();
    }

    /// <summary>The signature of the chain's last block before <paramref name="round"/> (for a round not before the last block's).</summary>
    private byte[] SeedSignatureFor(long round) =>
        LastSlot is not { } last ? []
        : rules.Clock.RoundOf(last) < round ? _lastSignature
        : _roundSeedSignature;
}
