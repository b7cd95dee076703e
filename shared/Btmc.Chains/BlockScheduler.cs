using Btmc.Ledger.Dpos;
using Btmc.Platform.Keys;

namespace Btmc.Chains;

/// <summary>A slot this process may seal a chain's next block in: the slot, its start (the header's slot time), its producer and that producer's key.</summary>
public sealed record SlotTurn(long Slot, DateTimeOffset SlotTime, ProducerCandidate Producer, ISigningKey Key);

/// <summary>
/// When a chain's next block may be sealed (docs/dpos.md): in the first slot, from now on and after the chain's last
/// block, whose producer's key this process holds — one block per slot per chain, by the slot's producer.
/// </summary>
/// <param name="rules">Slots, domain and electorate.</param>
/// <param name="keys">The producer keys this process holds.</param>
/// <param name="time">The clock.</param>
/// <param name="prepareRound">Called before a round's schedule is drawn, so the electorate can catch up with the governance chain.</param>
public sealed class BlockScheduler(DposRules rules, ProducerKeyring keys, TimeProvider time, Func<long, CancellationToken, Task>? prepareRound = null)
{
    public DposRules Rules => rules;

    public ProducerKeyring Keys => keys;

    public TimeProvider Time => time;

    /// <summary>Waits for this process's next turn on the chain that <paramref name="schedule"/> follows.</summary>
    public async Task<SlotTurn> WaitForTurnAsync(ChainSchedule schedule, CancellationToken cancellationToken = default)
    {
        var clock = rules.Clock;
        while (true)
        {
            var first = Math.Max(clock.SlotAt(time.GetUtcNow()), (schedule.LastSlot ?? -1) + 1);
            var preparedRound = -1L;
            var overtaken = false;
            for (var slot = first; slot < first + (2L * clock.SlotsPerRound); slot++)
            {
                var round = clock.RoundOf(slot);
                if (round != preparedRound && prepareRound is not null)
                {
                    await prepareRound(round, cancellationToken).ConfigureAwait(false);
                    preparedRound = round;

                    // Preparing the round may follow the very chain being scheduled (the governance chain syncs
                    // itself): when another instance sealed this slot meanwhile, look again from the chain's new end.
                    if (schedule.LastSlot >= slot)
                    {
                        overtaken = true;
                        break;
                    }
                }

                ProducerCandidate producer;
                try
                {
                    producer = schedule.ProducerOf(slot);
                }
                catch (InvalidOperationException)
                {
                    break; // nobody registered for this round: look again later
                }

                if (keys.Find(producer) is { } key)
                {
                    var start = clock.SlotStart(slot);
                    var wait = start - time.GetUtcNow();
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                    }

                    return new SlotTurn(slot, start, producer, key);
                }
            }

            if (overtaken)
            {
                continue;
            }

            // None of the next two rounds' slots on this chain is ours: wait a round; the electorate may change.
            await Task.Delay(TimeSpan.FromMilliseconds(clock.RoundMilliseconds), time, cancellationToken).ConfigureAwait(false);
        }
    }
}
