// Roles of the function app's identity (appPrincipalId) for what its code does, each at the narrowest scope the code
// allows, and of the deploying principal for what the post-provision hook does. Compute-sharing roles (issue 6) are
// in compute.bicep, committee members' roles in keyvaults.bicep. tests/Btmc.Infra.Tests checks these against the code.
param appPrincipalId string

@description('The principal running azd; empty for none.')
param principalId string = ''
param principalType string = 'User'

param storageAccountName string
param eventHubsNamespaceName string
param producerVaultName string
param committeeVaultName string
param applicationInsightsName string

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'
  keyVaultCryptoOfficer: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603'
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource supplyEvents 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: namespace
  name: 'supply-events'
}

resource producerVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: producerVaultName
}

resource committeeVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: committeeVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// ---------------------------------------------------------------- the function app

// The Functions host's storage (AzureWebJobsStorage__*): Event Hubs checkpoints and ownership leases, the timer's
// schedule monitor and host keys, in containers the host creates; and the Flex deployment package. Blob Data Owner is
// what the host documents for an identity-based AzureWebJobsStorage; account scope because the host names its
// containers. It also covers reading compute outputs (compute.bicep).
resource appHostStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: Functions host storage and deployment package'
  }
}

// The ledger (Tables__ServiceUri): creates its tables, reads, inserts, upserts and batches entities. Table Data
// Contributor is the least built-in role that writes entities; account scope because the tables are created at start
// (a Supply:TablePrefix makes new ones).
resource appLedgerTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, appPrincipalId, roles.storageTableDataContributor)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: ledger tables'
  }
}

// Capture publishes accepted events to supply-events (EventHubProducerClient over AMQP). This hub only.
resource appSendsSupply 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(supplyEvents.id, appPrincipalId, roles.eventHubsDataSender)
  scope: supplyEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: capture publishes supply events'
  }
}

// The SealSupplyEvents trigger (connection SupplyEvents, consumer group sealer) reads supply-events. This hub only.
resource appReceivesSupply 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(supplyEvents.id, appPrincipalId, roles.eventHubsDataReceiver)
  scope: supplyEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataReceiver)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: the sealer trigger reads supply events'
  }
}

// Producers' keys: get the public key (pinning its version) and sign block hashes (KeyVaultSigningKey). Crypto User
// is the least built-in role that signs; it cannot create, delete or export keys. Vault scope, because producers
// added later by a committee proposal may name new keys in this vault.
resource appSignsBlocks 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(producerVault.id, appPrincipalId, roles.keyVaultCryptoUser)
  scope: producerVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: sign blocks with the producers\' keys'
  }
}

// No role on the committee vault: the app never signs for a member, nor reads there.

// Telemetry with Entra ID (the component has local authentication off): APPLICATIONINSIGHTS_AUTHENTICATION_STRING.
resource appPublishesTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function app: publish telemetry'
  }
}

// ---------------------------------------------------------------- the deploying principal (post-provision hook)

// Creates the producer keys (az keyvault key create) and reads their ids. Crypto Officer manages keys, not secrets.
resource deployerCreatesProducerKeys 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(producerVault.id, principalId, roles.keyVaultCryptoOfficer)
  scope: producerVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoOfficer)
    principalId: principalId
    principalType: principalType
    description: 'Deployer: the post-provision hook creates the producer keys'
  }
}

// Reads the committee members' public keys to write deploy/committee.json. Reader cannot sign.
resource deployerReadsMemberKeys 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(committeeVault.id, principalId, roles.keyVaultReader)
  scope: committeeVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultReader)
    principalId: principalId
    principalType: principalType
    description: 'Deployer: the post-provision hook reads committee public keys'
  }
}
