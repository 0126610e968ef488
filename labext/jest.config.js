// The front end's logic (protocol, chat state, records, the session against fake kernels and
// notebooks) is plain TypeScript, so jest runs it in node through ts-jest, with no browser.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testRegex: '__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  }
};
