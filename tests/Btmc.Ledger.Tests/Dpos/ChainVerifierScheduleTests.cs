using System.Security.Cryptography;
using Btmc.Ledger.Dpos;
using Xunit;

namespace Btmc.Ledger.Tests.Dpos;

public sealed class ChainVerifierScheduleTests : IDisposable
{
    private const string ChainId = "supply-3";
    private const string Domain = "btmc/test/governance";

    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal)
    {
        ["fab-a"] = ECDsa.Create(ECCurve.NamedCurves.nistP256),
        ["osat-b"] = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10")),
        ["dist-c"] = ECDsa.Create(ECCurve.NamedCurves.nistP256),
    };

    private readonly DposRules _rules;

    public ChainVerifierScheduleTests()
    {
        var candidates = _keys.Select(k => new ProducerCandidate(k.Key, EcPublicJwk.FromECDsa(k.Value), k.Key.Length)).ToList();
        _rules = new DposRules(new SlotClock(1_764_000_000_000), Domain, _ => candidates);
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }
    }

    [Fact]
    public void Append_BlocksByTheirSlotsProducersAcrossRounds_Verify()
    {
        var chain = Build(0, 1, 7, 51, 52, 150, 400);

        var verifier = new ChainVerifier(ChainId, _rules);

        Assert.All(chain, block => Assert.Null(verifier.Append(block)));
        Assert.Equal(7, verifier.VerifiedBlocks);
    }

    [Fact]
    public void ResumeAfter_TrustedBlockWithItsRoundSeed_VerifiesTheRestAcrossRounds()
    {
        // Blocks 0 and 1 in round 0, 2 and 3 in round 1, 4 in round 2: resuming after block 2 needs block 1's signature.
        var chain = Build(3, 40, 60, 70, 120);
        var trusted = chain[2];

        var verifier = new ChainVerifier(ChainId, _rules);
        verifier.ResumeAfter(trusted.Header, trusted.Header.ComputeHash(), trusted.Signature, chain[1].Signature);

        Assert.Null(verifier.Append(chain[3]));
        Assert.Null(verifier.Append(chain[4]));
        Assert.Equal(5, verifier.VerifiedBlocks);
        Assert.Equal(chain[4].Header.ComputeHash(), verifier.HeadHash);
    }

    [Fact]
    public void ResumeAfter_NextBlockNotLinked_FaultsTheLink()
    {
        var chain = Build(3, 40, 60);

        var verifier = new ChainVerifier(ChainId, _rules);
        verifier.ResumeAfter(chain[0].Header, chain[0].Header.ComputeHash(), chain[0].Signature, []);
        var fault = verifier.Append(chain[2]);

        Assert.NotNull(fault);
        Assert.Equal(2, fault.Height);
        Assert.Contains("height 1 expected", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ResumeAfter_AfterABlock_Throws()
    {
        var chain = Build(3, 40);
        var verifier = new ChainVerifier(ChainId, _rules);
        Assert.Null(verifier.Append(chain[0]));

        Assert.Throws<InvalidOperationException>(() => verifier.ResumeAfter(chain[0].Header, chain[0].Header.ComputeHash(), chain[0].Signature, []));
    }

    [Fact]
    public void Append_NewRound_IsSeededByThePreviousBlocksSignature()
    {
        var chain = Build(3, 60);
        var candidates = _rules.Electorate(0);

        var round0 = ProducerSchedule.Draw(candidates, ProducerSchedule.Seed(Domain, ChainId, 0, []));
        var round1 = ProducerSchedule.Draw(candidates, ProducerSchedule.Seed(Domain, ChainId, 1, chain[0].Signature));

        Assert.Equal(round0[3].ProducerId, chain[0].Header.ProducerId);
        Assert.Equal(round1[60 - 51].ProducerId, chain[1].Header.ProducerId);
        Assert.Null(new ChainVerifier(ChainId, _rules).Append(chain[0]));
    }

    [Fact]
    public void Append_ProducerSigningOutsideItsSlot_FaultsNamingTheBlock()
    {
        var chain = Build(0, 1, 2, 3);
        var owner = chain[2].Header.ProducerId;
        var intruder = _keys.Keys.First(id => id != owner);
        chain[2] = Resign(chain[2], intruder);

        var fault = Run(chain);

        Assert.Equal(2, fault.Height);
        Assert.Equal(ChainId, fault.ChainId);
        Assert.Contains($"belongs to producer '{owner}', but the block names '{intruder}'", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_SlotsProducerNameWithAnotherKey_FaultsKeyId()
    {
        var chain = Build(0, 1);
        var owner = chain[1].Header.ProducerId;
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        chain[1] = Resign(chain[1], owner, stranger);

        var fault = Run(chain);

        Assert.Equal(1, fault.Height);
        Assert.Contains($"is not the key of producer '{owner}'", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_TwoBlocksInOneSlot_Faults()
    {
        var chain = Build(0, 5);
        var second = chain[1].Header with { SlotTime = chain[0].Header.SlotTime };
        chain[1] = Resign(chain[1] with { Header = second }, chain[0].Header.ProducerId);

        var fault = Run(chain);

        Assert.Equal(1, fault.Height);
        Assert.Contains("slot 0 is not after the previous block's slot 0", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_SlotTimeBetweenSlots_Faults()
    {
        var chain = Build(0);
        chain[0] = Resign(chain[0] with { Header = chain[0].Header with { SlotTime = chain[0].Header.SlotTime.AddMilliseconds(1500) } }, chain[0].Header.ProducerId);

        var fault = Run(chain);

        Assert.Equal(0, fault.Height);
        Assert.Contains("is not the start of a slot", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_RoundWithoutProducers_Faults()
    {
        var chain = Build(0);
        var rules = _rules with { Electorate = _ => [] };

        var fault = new ChainVerifier(ChainId, rules).Append(chain[0]);

        Assert.NotNull(fault);
        Assert.Contains("no producer schedule for round 0", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_ValidSignatureByWrongSlotHolder_StillFaultsEvenWithAKeyResolverThatKnowsIt()
    {
        // Without the schedule a signature by any known key passes; with it, only the slot's producer does.
        var chain = Build(0, 1);
        var owner = chain[1].Header.ProducerId;
        var intruder = _keys.Keys.First(id => id != owner);
        chain[1] = Resign(chain[1], intruder);
        var known = _keys.ToDictionary(k => EcPublicJwk.FromECDsa(k.Value).ComputeThumbprint(), k => EcPublicJwk.FromECDsa(k.Value), StringComparer.Ordinal);

        var plain = new ChainVerifier(ChainId, id => known.GetValueOrDefault(id));
        Assert.All(chain, block => Assert.Null(plain.Append(block)));
        Assert.NotNull(Run(chain));
    }

    private ChainFault Run(List<SealedBlock> chain)
    {
        var verifier = new ChainVerifier(ChainId, _rules);
        foreach (var block in chain)
        {
            if (verifier.Append(block) is { } fault)
            {
                return fault;
            }
        }

        throw new Xunit.Sdk.XunitException("The chain verified.");
    }

    /// <summary>An honest producer set: each block at its slot, signed by that slot's producer.</summary>
    private List<SealedBlock> Build(params long[] slots)
    {
        var schedule = new ChainSchedule(_rules, ChainId);
        var chain = new List<SealedBlock>();
        foreach (var slot in slots)
        {
            var producer = schedule.ProducerOf(slot);
            var leaves = new[] { new LedgerEntry($"evt-{slot}", Hash32.Compute(BitConverter.GetBytes(slot)), "fab-01").ComputeLeafHash() };
            var header = new BlockHeader(BlockHeader.CurrentVersion, ChainId, chain.Count, chain.Count == 0 ? Hash32.Zero : chain[^1].Header.ComputeHash(),
                MerkleTree.ComputeRoot(leaves), 1, _rules.Clock.SlotStart(slot), producer.ProducerId, producer.PublicKey.ComputeThumbprint());
            var signature = BlockSignature.Sign(_keys[producer.ProducerId], header.ComputeHash());
            schedule.Follow(slot, signature);
            chain.Add(new SealedBlock(header, signature, leaves));
        }

        return chain;
    }

    private SealedBlock Resign(SealedBlock block, string producerId, ECDsa? key = null)
    {
        key ??= _keys[producerId];
        var header = block.Header with { ProducerId = producerId, KeyId = EcPublicJwk.FromECDsa(key).ComputeThumbprint() };
        return block with { Header = header, Signature = BlockSignature.Sign(key, header.ComputeHash()) };
    }
}
