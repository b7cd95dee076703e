using Btmc.Infra.Tests.Code;
using Xunit;

namespace Btmc.Infra.Tests;

/// <summary>
/// Every Azure operation the function app performs (derived from the Azure clients its code names, its function.json
/// triggers, the Functions host and the provisioned compute sharing) is allowed by a role of its identity at a scope
/// that contains the resource; and it holds no role that none of them needs. Committee keys are signable by their
/// members alone.
/// </summary>
public sealed class RoleAssignmentTests
{
    private static Infrastructure Infra => Infrastructure.Current;

    private static IReadOnlyList<AzureOperation> Operations(out IReadOnlyList<AzureClientUse> unmapped) =>
        AzureOperations.Derive(SourceCode.Current.Uses(AzureOperations.AzureTypeNames()), out unmapped);

    /// <summary>Whether an assignment lets its principal perform an operation: the role grants the capability and the
    /// scope is the operation's resource or an ancestor of it.</summary>
    private static bool Covers(RoleAssignment assignment, AzureOperation operation)
    {
        if (assignment.RoleId is null || !BuiltInRole.Known.TryGetValue(assignment.RoleId, out var role)
            || !role.Capabilities.Contains(operation.Capability) || assignment.Scope is not { } scope)
        {
            return false;
        }

        if (scope.Type == operation.Scope.Type)
        {
            return (operation.Scope.Name is null || scope.Name == operation.Scope.Name)
                && (operation.Scope.Symbol is null || scope.Symbol == operation.Scope.Symbol);
        }

        return operation.Scope.Symbol is null && operation.Scope.Type.StartsWith(scope.Type + "/", StringComparison.Ordinal);
    }

    [Fact]
    public void CodeAzureClients_AreAllKnown_AndTheCodeUsesTheOnesExpected()
    {
        var operations = Operations(out var unmapped);
        Assert.True(unmapped.Count == 0, "Azure clients or bindings the operations map does not know (add them to AzureOperations): "
            + string.Join("; ", unmapped.Select(u => $"{u.TypeName} at {u.Location}")));

        // The derivation finds what the code does today; if it found nothing, it would prove nothing.
        Assert.Contains(operations, o => o.Capability == Capability.TableReadWrite && o.Source.StartsWith("functions/", StringComparison.Ordinal));
        Assert.Contains(operations, o => o.Capability == Capability.EventHubsSend && o.Scope.Name == "supply-events" && o.Source.StartsWith("functions/", StringComparison.Ordinal));
        Assert.Contains(operations, o => o.Capability == Capability.EventHubsReceive && o.Scope.Name == "supply-events");
        Assert.Contains(operations, o => o.Capability == Capability.KeysSign && o.Source.StartsWith("functions/", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryAzureOperation_IsAllowedByARoleOfTheFunctionAppIdentity()
    {
        var assignments = Infra.AppRoleAssignments;
        var uncovered = Operations(out _).Where(op => !assignments.Any(a => Covers(a, op))).ToList();
        Assert.True(uncovered.Count == 0, "Operations no role of the function app's identity allows:\n  " + string.Join("\n  ", uncovered)
            + "\nRoles it holds:\n  " + string.Join("\n  ", assignments));
    }

    [Fact]
    public void EveryRoleOfTheFunctionAppIdentity_IsNeededByAnOperation()
    {
        var operations = Operations(out _);
        var needless = Infra.AppRoleAssignments.Where(a => !operations.Any(op => Covers(a, op))).ToList();
        Assert.True(needless.Count == 0, "Roles of the function app's identity that no operation of the code needs (least privilege):\n  " + string.Join("\n  ", needless));
    }

    [Fact]
    public void FunctionAppIdentity_HasNoRoleOnTheCommitteeVault_AndSignsOnlyInTheProducerVault()
    {
        var committee = Infra.AppRoleAssignments
            .Where(a => a.Scope is { } s && (s.Symbol == AzureOperations.CommitteeVault || s.Type.StartsWith("Microsoft.KeyVault/vaults/", StringComparison.Ordinal)))
            .ToList();
        Assert.True(committee.Count == 0, "The function app must not act in the committee vault or on single keys: " + string.Join("; ", committee));

        var signers = Infra.AppRoleAssignments
            .Where(a => a.RoleId is { } id && BuiltInRole.Known.TryGetValue(id, out var role) && role.Capabilities.Contains(Capability.KeysSign))
            .ToList();
        Assert.NotEmpty(signers);
        Assert.All(signers, a => Assert.True(a.Scope?.Symbol == AzureOperations.ProducerVault, $"{a} may sign outside the producer vault"));

        // The two vaults are distinct resources.
        var vaults = Infra.File("infra/app/keyvaults.bicep").Resources.Where(r => r.Type == AzureOperations.Vault && !r.Existing).ToList();
        Assert.Equal(new[] { AzureOperations.CommitteeVault, AzureOperations.ProducerVault }, vaults.Select(v => v.Symbol).Order(StringComparer.Ordinal));
        Assert.NotEqual(Infra.Main.Modules.Single(m => m.Symbol == "keyVaults").Property("params")!.Property("producerVaultName")!.Text,
            Infra.Main.Modules.Single(m => m.Symbol == "keyVaults").Property("params")!.Property("committeeVaultName")!.Text);
    }

    [Fact]
    public void CommitteeMembers_EachSignWithTheirOwnKeyOnly()
    {
        var file = Infra.File("infra/app/keyvaults.bicep");
        var keys = file.Resources.Single(r => r.Type == "Microsoft.KeyVault/vaults/keys");
        Assert.Equal(AzureOperations.CommitteeVault, keys.Property("parent")?.Text);
        Assert.Equal("'EC'", keys.Property("properties")?.Property("kty")?.Text);
        Assert.Equal("'P-256'", keys.Property("properties")?.Property("curveName")?.Text);

        var members = Infra.RoleAssignments.Where(a => a.Resource.File == file).ToList();
        var member = Assert.Single(members);
        Assert.Equal("12338af0-0e69-4776-bea7-57ae8d297424", member.RoleId); // Key Vault Crypto User: get and sign
        Assert.Equal($"{keys.Symbol}[i]", member.ScopeExpression); // that member's key, not the vault
        var keysLoop = keys.Loop!.Named.ElementAt(1).Text;
        var membersLoop = member.Resource.Loop!.Named.ElementAt(1).Text;
        Assert.Equal(keysLoop, membersLoop); // one key per member principal, assigned to that principal
        Assert.Equal(member.Resource.Loop.Named.First().Named.First().Text, member.Principal);
    }

    [Fact]
    public void EveryRoleAssignment_IsABuiltInRole_JustifiedByTheCommentAboveIt()
    {
        Assert.NotEmpty(Infra.RoleAssignments);
        foreach (var assignment in Infra.RoleAssignments)
        {
            Assert.True(assignment.RoleId is not null && BuiltInRole.Known.ContainsKey(assignment.RoleId), $"{assignment}: not a known built-in role");
            Assert.True(assignment.Scope is not null, $"{assignment}: its scope is no resource of its file");
            Assert.True(assignment.Resource.File.CommentAbove(assignment.Resource.Declaration).Count > 0, $"{assignment}: no comment says why");
            var name = assignment.Resource.Property("name")?.Text ?? "";
            Assert.StartsWith("guid(", name, StringComparison.Ordinal); // deterministic, idempotent names
        }
    }

    [Fact]
    public void ModulesGrantingAppRoles_ReceiveTheFunctionAppIdentity()
    {
        var files = Infra.AppRoleAssignments.Select(a => a.Resource.File).Distinct().ToList();
        Assert.Contains(files, f => f.RelativePath == "infra/app/rbac.bicep");
        var principal = $"{Infrastructure.AppIdentityModule}.outputs.principalId";
        foreach (var file in files)
        {
            Assert.True(file.Parameters.ContainsKey(Infrastructure.AppPrincipalParameter), $"{file} assigns roles to {Infrastructure.AppPrincipalParameter} but does not declare it");
            var module = Infra.Main.Modules.Single(m => m.TypeReference == "./" + file.RelativePath["infra/".Length..]);
            Assert.Equal(principal, module.Property("params")?.Property(Infrastructure.AppPrincipalParameter)?.Text);
        }

        var api = Infra.Main.Modules.Single(m => m.TypeReference == "./app/api.bicep").Property("params")!;
        Assert.Equal($"{Infrastructure.AppIdentityModule}.outputs.resourceId", api.Property("identityId")?.Text);
        Assert.Equal($"{Infrastructure.AppIdentityModule}.outputs.clientId", api.Property("identityClientId")?.Text);
        var identity = Infra.Main.Modules.Single(m => m.Symbol == Infrastructure.AppIdentityModule);
        Assert.StartsWith("br/public:avm/res/managed-identity/user-assigned-identity:", identity.TypeReference, StringComparison.Ordinal);
    }
}
