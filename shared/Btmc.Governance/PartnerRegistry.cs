using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// The partner registry's writes that need no committee (docs/partners.md): the deployment's first partners, sealed
/// once, and an operator's direct changes on a ledger without a committee. Each is a governance record, sealed before
/// it is answered, and read by every instance from the governance chain.
/// </summary>
public sealed class PartnerRegistry(GovernanceLedger ledger)
{
    public PartnerDirectory Directory => ledger.Partners;

    /// <summary>Seals <paramref name="partners"/> as the registry's first partners, unless it has partners already
    /// (another instance, or an earlier start, registered them). Returns whether this call registered them.</summary>
    public async Task<bool> ImportAsync(IReadOnlyList<PartnerSpec> partners, CancellationToken cancellationToken = default)
    {
        var imported = false;
        await ledger.SubmitAsync((state, _) =>
        {
            imported = state.Partners.Count == 0;
            return imported ? [new PartnersImportRecord(partners.Select(p => PartnerChange.Create(new AddPartner(p)).Text).ToList())] : [];
        }, cancellationToken).ConfigureAwait(false);
        return imported;
    }

    /// <summary>
    /// Makes an operator's change. Repeating a change that is in effect already (the same partner added again, a
    /// suspended partner suspended) seals nothing and answers the partner as it is.
    /// </summary>
    /// <exception cref="Refused">The ledger has a committee, <paramref name="by"/> is no operator, or the change does not apply.</exception>
    public async Task<Partner> ChangeAsync(ProposalAction action, string by, CancellationToken cancellationToken = default)
    {
        var id = action switch
        {
            AddPartner add => add.Partner.Id,
            UpdatePartner update => update.Partner.Id,
            SuspendPartner suspend => suspend.Partner,
            _ => throw Refused.Invalid("action", $"A partner change is add-partner, update-partner or suspend-partner, not {action.Name}."),
        };
        await ledger.SubmitAsync((state, _) =>
        {
            if (state.Partners.TryGetValue(id, out var current) && InEffect(action, current))
            {
                return [];
            }

            var change = PartnerChange.Create(action);
            state.CheckPartnerChange(change.Text, by);
            return [new PartnerChangeRecord(change.Text, by)];
        }, cancellationToken).ConfigureAwait(false);
        return ledger.State.Partners[id];
    }

    private static bool InEffect(ProposalAction action, Partner current) => action switch
    {
        AddPartner add => Same(add.Partner, current.Spec),
        SuspendPartner suspend => current.Suspended == suspend.Suspended,
        _ => false,
    };

    private static bool Same(PartnerSpec a, PartnerSpec b) =>
        PartnerChange.SameLines(new AddPartner(a), new AddPartner(b));
}
