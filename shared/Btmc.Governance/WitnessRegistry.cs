using Btmc.Ledger;
using Btmc.Ledger.Transparency;

namespace Btmc.Governance;

/// <summary>
/// An operator's direct witness changes on a ledger without a committee (docs/witnesses.md). Each is a governance
/// record, sealed before it is answered, and read by every instance from the governance chain; with a committee,
/// witnesses change only by add-witness and remove-witness proposals.
/// </summary>
public sealed class WitnessRegistry(GovernanceLedger ledger)
{
    /// <summary>The registered witnesses, by name.</summary>
    public IReadOnlyDictionary<string, Cosigner> Witnesses => ledger.State.Witnesses;

    /// <summary>Registers a witness.</summary>
    /// <exception cref="Refused">The ledger has a committee, <paramref name="by"/> is no operator, or the name or key is registered already.</exception>
    public async Task<Cosigner> AddAsync(Cosigner witness, string by, CancellationToken cancellationToken = default)
    {
        await ChangeAsync(new AddWitness(witness), by, cancellationToken).ConfigureAwait(false);
        return witness;
    }

    /// <summary>Removes a registered witness.</summary>
    /// <exception cref="Refused">The ledger has a committee, <paramref name="by"/> is no operator, or no such witness is registered.</exception>
    public Task RemoveAsync(string name, string by, CancellationToken cancellationToken = default) =>
        ChangeAsync(new RemoveWitness(name), by, cancellationToken);

    private async Task ChangeAsync(ProposalAction action, string by, CancellationToken cancellationToken) =>
        await ledger.SubmitAsync((state, _) =>
        {
            var change = WitnessChange.Create(action);
            state.CheckWitnessChange(change.Text, by);
            return [new WitnessChangeRecord(change.Text, by)];
        }, cancellationToken).ConfigureAwait(false);
}
