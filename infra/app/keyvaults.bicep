// Two vaults, both Entra ID RBAC only (docs/dpos.md):
// - producers: the keys the function app signs blocks with. The post-provision hook creates them (az keyvault key
//   create --curve P-256); the app may get and sign (app/rbac.bicep).
// - committee: one P-256 key per committee member, created here, each signable only by its member (role assignment
//   on that key alone). The function app holds no role on this vault: it never reads or signs there (it verifies
//   members' signatures with the public keys sealed in the ledger).
param producerVaultName string
param committeeVaultName string
param location string = resourceGroup().location
param tags object = {}

@description('Irreversible once true; `azd down --purge` cannot purge protected vaults.')
param purgeProtection bool = false

@description('Entra object ids of the committee members, in member order (member-1 first); empty for none.')
param committeeMemberPrincipalIds array = []

// Key Vault Crypto User: get the key and sign with it (sign, verify, get; no create, delete or purge).
var keyVaultCryptoUser = '12338af0-0e69-4776-bea7-57ae8d297424'

var vaultProperties = union({
  tenantId: subscription().tenantId
  sku: {
    family: 'A'
    name: 'standard'
  }
  enableRbacAuthorization: true // no access policies
  enableSoftDelete: true
  softDeleteRetentionInDays: 90
  publicNetworkAccess: 'Enabled'
}, purgeProtection ? { enablePurgeProtection: true } : {})

resource producerVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: producerVaultName
  location: location
  tags: tags
  properties: vaultProperties
}

resource committeeVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: committeeVaultName
  location: location
  tags: tags
  properties: vaultProperties
}

// Created once: Key Vault refuses to make a new version through this resource, so a redeployment keeps each
// member's key (and the public key the ledger registered) unchanged.
resource memberKeys 'Microsoft.KeyVault/vaults/keys@2023-07-01' = [for (memberPrincipalId, i) in committeeMemberPrincipalIds: {
  parent: committeeVault
  name: 'member-${i + 1}'
  tags: tags
  properties: {
    kty: 'EC'
    curveName: 'P-256'
    keyOps: [
      'sign'
      'verify'
    ]
  }
}]

// Each member signs with their own key only: the role is scoped to that key, not to the vault.
resource memberSigns 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (memberPrincipalId, i) in committeeMemberPrincipalIds: {
  name: guid(memberKeys[i].id, memberPrincipalId, keyVaultCryptoUser)
  scope: memberKeys[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoUser)
    principalId: memberPrincipalId
    description: 'Committee member ${i + 1} signs governance proposals and approvals with their own key'
  }
}]

output producerVaultName string = producerVault.name
output producerVaultUri string = producerVault.properties.vaultUri
output committeeVaultName string = committeeVault.name
output committeeVaultUri string = committeeVault.properties.vaultUri
output memberKeyIds array = [for (memberPrincipalId, i) in committeeMemberPrincipalIds: memberKeys[i].properties.keyUri]
