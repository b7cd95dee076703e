using Btmc.Epcis;
using Btmc.Supply.Ownership;
using Xunit;
using static Btmc.Supply.Tests.Ownership.OwnershipEvents;

namespace Btmc.Supply.Tests.Ownership;

/// <summary>The ownership rules (docs/trade.md, "Ownership") as a pure fold over events.</summary>
public sealed class OwnershipFoldTests
{
    private static AssetState StateOf(string epc, params OwnershipEvent[] events) =>
        OwnershipFold.Replay(events, Registry)[EventTerms.CanonicalEpc(epc)];

    [Fact]
    public void Replay_Commissioned_CommissioningPartnerOwnsAndHolds()
    {
        var commission = Commission("fab", 0, Chip(1));

        var state = StateOf(Chip(1), commission);

        Assert.Equal(new AssetHolder("fab", null), state.Owner);
        Assert.Equal(new AssetHolder("fab", null), state.Custodian);
        Assert.Equal([OwnershipChange.Owner, OwnershipChange.Custodian], state.History.Select(h => h.Change));
        Assert.All(state.History, h => Assert.Equal((commission.EventId, commission.Position, (AssetHolder?)null), (h.EventId, h.Position, h.From)));
    }

    [Fact]
    public void Replay_CommissionedForANamedDestinationOwner_ThatPartyOwnsAndTheCommissionerHolds()
    {
        var commission = Event("osat", 0, $$"""{"type":"ObjectEvent","action":"ADD","bizStep":"commissioning","epcList":{{Json([Chip(1)])}},"destinationList":[{"type":"owning_party","destination":"{{Fab}}"}]""");

        var state = StateOf(Chip(1), commission);

        Assert.Equal(new AssetHolder("fab", Fab), state.Owner);
        Assert.Equal(new AssetHolder("osat", null), state.Custodian);
    }

    [Fact]
    public void Replay_ShippedByTheOwnerToAnotherParty_OwnershipTransfersAndReceivingConfirms()
    {
        var shipping = Move("fab", 1, "shipping", Fab, Osat, [Chip(1), Chip(2)]);
        var receiving = Move("osat", 2, "receiving", Fab, Osat, [Chip(1)]);

        var state = StateOf(Chip(1), Commission("fab", 0, Chip(1), Chip(2)), shipping, receiving);

        Assert.Equal(new AssetHolder("osat", Osat), state.Owner);
        Assert.Equal(new AssetHolder("fab", null), state.Custodian);
        var change = state.History[^1];
        Assert.Equal((OwnershipChange.Owner, new AssetHolder("fab", null), shipping.EventId), (change.Change, change.From, change.EventId));
        Assert.Equal(3, state.History.Count);
    }

    [Fact]
    public void Replay_PossessingPartyMoves_OnlyCustodyChanges()
    {
        var handover = Move("fab", 1, "shipping", Fab, Osat, [Chip(1)], "possessing_party");

        var state = StateOf(Chip(1), Commission("fab", 0, Chip(1)), handover);

        Assert.Equal(new AssetHolder("fab", null), state.Owner);
        Assert.Equal(new AssetHolder("osat", Osat), state.Custodian);
        Assert.Equal((OwnershipChange.Custodian, handover.EventId), (state.History[^1].Change, state.History[^1].EventId));
    }

    [Fact]
    public void Replay_TransferBySomeoneWhoIsNotTheOwner_ChangesNothing()
    {
        var state = StateOf(Chip(1), Commission("fab", 0, Chip(1)), Move("oem", 1, "receiving", Osat, Oem, [Chip(1)]));

        Assert.Equal(new AssetHolder("fab", null), state.Owner);
        Assert.Equal(2, state.History.Count);
    }

    [Fact]
    public void Replay_TransformationOfInputsWithOneOwner_OutputsOwnedByThatOwnerHeldByTheCapturer()
    {
        var transformation = Transform("osat", 2, [Chip(1), Chip(2)], ["urn:epc:id:sgtin:4098765.022222.1"]);

        var state = StateOf("urn:epc:id:sgtin:4098765.022222.1",
            Commission("fab", 0, Chip(1), Chip(2)), transformation);

        Assert.Equal(new AssetHolder("fab", null), state.Owner);
        Assert.Equal(new AssetHolder("osat", null), state.Custodian);
        Assert.All(state.History, h => Assert.Equal(transformation.EventId, h.EventId));
    }

    [Fact]
    public void Replay_TransformationOfInputsWithDifferentOwners_OutputsOwnedByTheCapturer()
    {
        var state = StateOf("urn:epc:id:sgtin:4098765.022222.1",
            Commission("fab", 0, Chip(1), Chip(2)),
            Move("fab", 1, "shipping", Fab, Osat, [Chip(2)]),
            Transform("oem", 2, [Chip(1), Chip(2)], ["urn:epc:id:sgtin:4098765.022222.1"]));

        Assert.Equal(new AssetHolder("oem", null), state.Owner);
    }

    [Fact]
    public void Replay_ChildAggregatedIntoAShippedParent_FollowsTheParentUntilTakenOut()
    {
        const string tray = "urn:epc:id:sscc:4012345.0000000001";
        var shipping = Move("fab", 2, "shipping", Fab, Osat, [tray]);

        var state = OwnershipFold.Replay([
            Commission("fab", 0, Chip(1), Chip(2)),
            Aggregate("fab", 1, "ADD", tray, Chip(1), Chip(2)),
            shipping,
            Aggregate("osat", 3, "DELETE", tray, Chip(2)),
            Move("osat", 4, "shipping", Osat, Oem, [tray]),
        ], Registry);

        Assert.Equal(new AssetHolder("oem", Oem), state[EventTerms.CanonicalEpc(Chip(1))].Owner);
        var taken = state[EventTerms.CanonicalEpc(Chip(2))];
        Assert.Equal(new AssetHolder("osat", Osat), taken.Owner);
        Assert.Equal(shipping.EventId, taken.History[^1].EventId);
    }

    [Fact]
    public void Replay_ParentEmptiedByADeleteNamingNoChildren_ChildrenNoLongerFollow()
    {
        const string tray = "urn:epc:id:sscc:4012345.0000000001";
        var state = StateOf(Chip(1),
            Commission("fab", 0, Chip(1)),
            Aggregate("fab", 1, "ADD", tray, Chip(1)),
            Event("fab", 2, $$"""{"type":"AggregationEvent","action":"DELETE","parentID":"{{tray}}","childEPCs":[]"""),
            Move("fab", 3, "shipping", Fab, Osat, [tray]));

        Assert.Equal(new AssetHolder("fab", null), state.Owner);
    }

    [Fact]
    public void Replay_ShippingDeclaredErroneous_DoesNotCount()
    {
        var shipping = Move("fab", 1, "shipping", Fab, Osat, [Chip(1)]) with { Erroneous = true };

        var state = StateOf(Chip(1), Commission("fab", 0, Chip(1)), shipping);

        Assert.Equal(new AssetHolder("fab", null), state.Owner);
    }

    [Fact]
    public void Replay_QuantityLot_FirstAddOwnsAndShippingTransfers()
    {
        const string lot = "urn:epc:class:lgtin:4012345.011111.LOT-7";
        var add = Event("fab", 0, """{"type":"ObjectEvent","action":"ADD","bizStep":"commissioning","quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.011111.LOT-7","quantity":100}]""");
        var again = Event("osat", 1, """{"type":"ObjectEvent","action":"ADD","quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.011111.LOT-7","quantity":5}]""");
        var shipping = Event("fab", 2, $$"""{"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping","quantityList":[{"epcClass":"{{lot}}","quantity":100}],{{Parties("owning_party", Fab, Oem)}}""");

        var state = StateOf(lot, add, again, shipping);

        Assert.Equal(new AssetHolder("oem", Oem), state.Owner);
        Assert.Equal(add.EventId, state.History[0].EventId);
    }

    [Fact]
    public void Replay_EventsOutOfOrder_AppliedByEventTime()
    {
        var shipping = Move("fab", 5, "shipping", Fab, Osat, [Chip(1)]);

        var state = StateOf(Chip(1), shipping, Commission("fab", 0, Chip(1)));

        Assert.Equal(new AssetHolder("osat", Osat), state.Owner);
    }

    [Fact]
    public void Replay_UnregisteredParty_ComparedByIdentifier()
    {
        var shipping = Move("fab", 1, "shipping", Fab, Stranger, [Chip(1)]);
        var resale = Move("fab", 2, "shipping", "urn:epc:id:pgln:0999999.00000", Oem, [Chip(1)]);

        var state = StateOf(Chip(1), Commission("fab", 0, Chip(1)), shipping, resale);

        Assert.Equal(new AssetHolder("oem", Oem), state.Owner);
        Assert.Equal(new AssetHolder(null, Stranger), state.History[^1].From);
    }

    [Fact]
    public void Replay_WildcardPartnerCommissioned_SpeaksForUnregisteredParties()
    {
        var directory = new PartyDirectory([new PartnerPrefixes("local", ["*"])]);
        var shipping = Move("local", 1, "shipping", Stranger, Oem, [Chip(1)]);

        var state = OwnershipFold.Replay([Commission("local", 0, Chip(1)), shipping], directory)[EventTerms.CanonicalEpc(Chip(1))];

        Assert.Equal(new AssetHolder(null, Oem), state.Owner);
    }

    [Fact]
    public void Check_ShippingBySomeoneWhoIsNotTheOwner_ConflictNamingTheOwnerAndItsEvent()
    {
        var commission = Commission("fab", 0, Chip(1));
        var fold = new OwnershipFold(Registry);
        fold.Apply(commission);

        var problem = Assert.Single(fold.Check(Move("osat", 1, "shipping", Osat, Oem, [Chip(1)]).Terms, "osat"));

        Assert.False(problem.Forbidden);
        Assert.Equal("/sourceList/0", problem.Member);
        Assert.Equal(commission.EventId, problem.RecordedBy.EventId);
        Assert.Contains("partner 'fab'", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_TransferAwayCapturedByAPartnerThatIsNeitherOwnerNorCustodian_Forbidden()
    {
        var fold = new OwnershipFold(Registry);
        fold.Apply(Commission("fab", 0, Chip(1)));

        var problem = Assert.Single(fold.Check(Move("oem", 1, "receiving", Fab, Oem, [Chip(1)]).Terms, "oem"));

        Assert.True(problem.Forbidden);
        Assert.Equal("/sourceList/0", problem.Member);
    }

    [Fact]
    public void Check_ShippingByTheOwnerAndReceivingThatConfirms_NoProblem()
    {
        var fold = new OwnershipFold(Registry);
        fold.Apply(Commission("fab", 0, Chip(1)));
        var shipping = Move("fab", 1, "shipping", Fab, Osat, [Chip(1)]);
        Assert.Empty(fold.Check(shipping.Terms, "fab"));
        fold.Apply(shipping);

        Assert.Empty(fold.Check(Move("osat", 2, "receiving", Fab, Osat, [Chip(1)]).Terms, "osat"));
    }

    [Fact]
    public void Check_CustodianShipsForTheOwner_Allowed()
    {
        var fold = new OwnershipFold(Registry);
        fold.Apply(Commission("fab", 0, Chip(1)));
        fold.Apply(Move("fab", 1, "shipping", Fab, Osat, [Chip(1)], "possessing_party"));

        Assert.Empty(fold.Check(Move("osat", 2, "shipping", Fab, Oem, [Chip(1)]).Terms, "osat"));
    }

    [Fact]
    public void Check_ShippingNamingOnlyASourceThatIsNotTheOwner_ConflictAndCheckedAsATransfer()
    {
        var fold = new OwnershipFold(Registry);
        fold.Apply(Commission("fab", 0, Chip(1)));
        var shipping = Event("osat", 1, $$"""{"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping","epcList":{{Json([Chip(1)])}},"sourceList":[{"type":"location","source":"urn:epc:id:sgln:4098765.00000.0"},{"type":"owning_party","source":"{{Osat}}"}]""");

        var problem = Assert.Single(fold.Check(shipping.Terms, "osat"));

        Assert.True(OwnershipFold.IsTransfer(shipping.Terms));
        Assert.Equal("/sourceList/1", problem.Member);
    }

    [Fact]
    public void IsTransfer_SourceAndDestinationTheSameParty_False()
    {
        Assert.False(OwnershipFold.IsTransfer(Move("fab", 1, "receiving", Fab, Fab, [Chip(1)]).Terms));
        Assert.True(OwnershipFold.IsTransfer(Move("fab", 1, "receiving", Fab, Osat, [Chip(1)], "possessing_party").Terms));
    }

    [Fact]
    public void Check_IdentifierWithNoRecordedOwner_NotChecked()
    {
        var fold = new OwnershipFold(Registry);

        Assert.Empty(fold.Check(Move("oem", 1, "shipping", Osat, Oem, [Chip(1)]).Terms, "oem"));
    }
}
