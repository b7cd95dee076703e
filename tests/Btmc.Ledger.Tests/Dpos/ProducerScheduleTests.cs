using System.Security.Cryptography;
using Btmc.Ledger.Dpos;
using Xunit;

namespace Btmc.Ledger.Tests.Dpos;

public sealed class ProducerScheduleTests
{
    private const string Domain = "btmc/pinned-deployment/governance";

    private static readonly EcPublicJwk AnyKey = EcPublicJwk.FromECDsa(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    // Pinned values printed by the independent Python reference, docs/dpos-reference.py.
    [Fact]
    public void Seed_PinnedInputs_MatchesTheReference()
    {
        var seed = ProducerSchedule.Seed(Domain, "supply-0", 7, Enumerable.Range(0, 64).Select(i => (byte)i).ToArray());

        Assert.Equal("9b9dd90e3a5e0f7e03e091c000b993bb7166aad8a3d21236e2747fc22fc334a7", seed.ToHex());
    }

    [Fact]
    public void Draw_SixtyCandidates_MatchesTheReferenceSchedule()
    {
        var candidates = Enumerable.Range(0, 60).Select(i => Candidate($"producer-{i:D2}", (i * 7919) % 1000)).ToList();
        var seed = ProducerSchedule.Seed(Domain, "supply-0", 7, Enumerable.Range(0, 64).Select(i => (byte)i).ToArray());

        var slots = ProducerSchedule.Draw(candidates, seed);

        const string Expected = "producer-47 producer-53 producer-16 producer-50 producer-36 producer-25 producer-30 producer-08 producer-01 "
            + "producer-27 producer-19 producer-22 producer-38 producer-10 producer-02 producer-17 producer-21 producer-04 producer-28 "
            + "producer-46 producer-31 producer-09 producer-52 producer-15 producer-32 producer-03 producer-26 producer-45 producer-59 "
            + "producer-34 producer-18 producer-51 producer-42 producer-29 producer-39 producer-55 producer-41 producer-33 producer-43 "
            + "producer-06 producer-58 producer-57 producer-14 producer-13 producer-20 producer-56 producer-54 producer-44 producer-05 "
            + "producer-07 producer-40";
        Assert.Equal(Expected, string.Join(' ', slots.Select(s => s.ProducerId)));
    }

    [Fact]
    public void Draw_ThreeCandidates_CyclesTheShuffledThroughAllSlots()
    {
        var candidates = new[] { Candidate("fab-a", 300), Candidate("fab-b", 0), Candidate("osat-c", 300) };

        var slots = ProducerSchedule.Draw(candidates, ProducerSchedule.Seed(Domain, "governance", 0, []));

        Assert.Equal(51, slots.Count);
        Assert.Equal("osat-c fab-b fab-a", string.Join(' ', slots.Take(3).Select(s => s.ProducerId)));
        for (var i = 3; i < 51; i++)
        {
            Assert.Equal(slots[i - 3].ProducerId, slots[i].ProducerId);
        }
    }

    [Fact]
    public void Draw_SixtyCandidates_ElectsTheTopFiftyAndOneStandbyEachOnce()
    {
        var candidates = Enumerable.Range(0, 60).Select(i => Candidate($"p{i:D2}", 1000 - i)).ToList();

        var slots = ProducerSchedule.Draw(candidates, Hash32.Compute("any"u8));

        var ids = slots.Select(s => s.ProducerId).ToList();
        Assert.Equal(51, ids.Distinct().Count());
        Assert.All(Enumerable.Range(0, 50), i => Assert.Contains($"p{i:D2}", ids));
        Assert.Single(ids, id => string.CompareOrdinal(id, "p50") >= 0);
    }

    [Fact]
    public void Draw_StandbyPick_FollowsVotesAmongTheRest()
    {
        // 50 elected by rank, then three others with 1 : 2 : 7 of the remaining votes.
        var candidates = Enumerable.Range(0, 50).Select(i => Candidate($"top-{i:D2}", 10_000)).ToList();
        candidates.Add(Candidate("rest-a", 100));
        candidates.Add(Candidate("rest-b", 200));
        candidates.Add(Candidate("rest-c", 700));
        candidates.Add(Candidate("rest-zero", 0));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);

        const int Rounds = 4000;
        for (var round = 0; round < Rounds; round++)
        {
            var standby = ProducerSchedule.Draw(candidates, ProducerSchedule.Seed(Domain, "supply-1", round, [])).Single(s => s.ProducerId.StartsWith("rest-", StringComparison.Ordinal));
            counts[standby.ProducerId] = counts.GetValueOrDefault(standby.ProducerId) + 1;
        }

        Assert.False(counts.ContainsKey("rest-zero"));
        Assert.InRange(counts["rest-a"] / (double)Rounds, 0.08, 0.12);
        Assert.InRange(counts["rest-b"] / (double)Rounds, 0.17, 0.23);
        Assert.InRange(counts["rest-c"] / (double)Rounds, 0.66, 0.74);
    }

    [Fact]
    public void Draw_RestWithoutVotes_NoStandbyAndTheFiftyFillTheRound()
    {
        var candidates = Enumerable.Range(0, 55).Select(i => Candidate($"p{i:D2}", i < 50 ? 5 : 0)).ToList();

        var slots = ProducerSchedule.Draw(candidates, Hash32.Compute("seed"u8));

        Assert.Equal(50, slots.Select(s => s.ProducerId).Distinct().Count());
        Assert.DoesNotContain(slots, s => s.Votes == 0);
        Assert.Equal(slots[0], slots[50]);
    }

    [Fact]
    public void Draw_SameInputs_SameSlots_OtherSeed_OtherOrder()
    {
        var candidates = Enumerable.Range(0, 20).Select(i => Candidate($"p{i:D2}", i)).ToList();

        var first = ProducerSchedule.Draw(candidates, Hash32.Compute("a"u8)).Select(s => s.ProducerId).ToList();
        var again = ProducerSchedule.Draw(candidates.AsEnumerable().Reverse().ToList(), Hash32.Compute("a"u8)).Select(s => s.ProducerId).ToList();
        var other = ProducerSchedule.Draw(candidates, Hash32.Compute("b"u8)).Select(s => s.ProducerId).ToList();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Seed_EachInputChangesIt()
    {
        var baseline = ProducerSchedule.Seed(Domain, "supply-0", 1, [1, 2, 3]);

        Assert.NotEqual(baseline, ProducerSchedule.Seed("btmc/other/governance", "supply-0", 1, [1, 2, 3]));
        Assert.NotEqual(baseline, ProducerSchedule.Seed(Domain, "supply-1", 1, [1, 2, 3]));
        Assert.NotEqual(baseline, ProducerSchedule.Seed(Domain, "supply-0", 2, [1, 2, 3]));
        Assert.NotEqual(baseline, ProducerSchedule.Seed(Domain, "supply-0", 1, [1, 2, 4]));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("")]
    [InlineData("-dash-first")]
    [InlineData("space in")]
    [InlineData("none")]
    public void Draw_MalformedProducerId_Throws(string id)
    {
        Assert.Throws<ArgumentException>(() => ProducerSchedule.Draw([Candidate(id, 1)], Hash32.Zero));
    }

    [Fact]
    public void Draw_DuplicateProducerOrNone_Throws()
    {
        Assert.Throws<ArgumentException>(() => ProducerSchedule.Draw([Candidate("a", 1), Candidate("a", 2)], Hash32.Zero));
        Assert.Throws<ArgumentException>(() => ProducerSchedule.Draw([], Hash32.Zero));
    }

    private static ProducerCandidate Candidate(string id, long votes) => new(id, AnyKey, votes);
}
