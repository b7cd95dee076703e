using Btmc.Ledger;
using Btmc.Ledger.Dpos;

namespace Btmc.Governance;

/// <summary>
/// The governance chain folded block by block: the state after each block, and the electorate history the producer
/// schedule reads (docs/dpos.md, "Electorate"). Round <c>r</c> of every chain is drawn from the producers and votes as
/// they stood after the last governance block whose slot is before the start of round <c>r − 1</c> — a full round
/// before the round begins, so every sealer sees the same electorate. Thread-safe for readers.
/// </summary>
public sealed class GovernanceReplay
{
    /// <summary>The governance chain's id.</summary>
    public const string ChainId = "governance";

    private readonly object _gate = new();
    private readonly List<(long SlotMilliseconds, IReadOnlyList<ProducerCandidate> Electorate)> _history = [];
    private GovernanceState _state = new();

    /// <summary>The state after the last applied block (a snapshot: later blocks replace it, never change it).</summary>
    public GovernanceState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The producer schedule's rules; null before genesis.</summary>
    public DposRules? Rules { get; private set; }

    /// <summary>How many blocks have been applied.</summary>
    public long Blocks { get; private set; }

    /// <summary>The slot time of the last applied block.</summary>
    public DateTimeOffset? LastSlotTime { get; private set; }

    /// <summary>
    /// Applies a block's records in order; all or nothing.
    /// </summary>
    /// <exception cref="Refused">A record breaks a rule; the message names the record.</exception>
    public void ApplyBlock(DateTimeOffset slotTime, IReadOnlyList<GovernanceRecord> records)
    {
        var next = Preview(slotTime, records);
        lock (_gate)
        {
            _state = next;
            Rules ??= new DposRules(next.Clock, next.Domain, ElectorateFor);
            _history.Add((slotTime.ToUnixTimeMilliseconds(), next.Electorate()));
            Blocks++;
            LastSlotTime = slotTime;
        }
    }

    /// <summary>The state the records would give if sealed at <paramref name="slotTime"/>, without applying them.</summary>
    /// <exception cref="Refused">A record breaks a rule.</exception>
    public GovernanceState Preview(DateTimeOffset slotTime, IReadOnlyList<GovernanceRecord> records)
    {
        var next = State.Clone();
        for (var i = 0; i < records.Count; i++)
        {
            try
            {
                next.Apply(records[i], slotTime);
            }
            catch (Refused ex) when (records.Count > 1)
            {
                throw new Refused(ex.Kind, ex.Field, $"Record {i} ({records[i].GetType().Name}): {ex.Message}");
            }
        }

        return next;
    }

    /// <summary>The candidates and votes round <paramref name="round"/> is drawn from.</summary>
    public IReadOnlyCollection<ProducerCandidate> ElectorateFor(long round)
    {
        lock (_gate)
        {
            if (Rules is null || _history.Count == 0)
            {
                return [];
            }

            var cutoff = Rules.Clock.RoundStart(Math.Max(round - 1, 0)).ToUnixTimeMilliseconds();
            for (var i = _history.Count - 1; i > 0; i--)
            {
                if (_history[i].SlotMilliseconds < cutoff)
                {
                    return _history[i].Electorate;
                }
            }

            return _history[0].Electorate;
        }
    }
}
