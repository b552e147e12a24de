import { userOfImage } from './image_status';

describe('the user of an image', () => {
  it.each([
    ['1002', { uid: '1002', username: '' }],
    ['www-data', { username: 'www-data' }],
    ['1003:1004', { uid: '1003', username: '' }],
    ['www-data:1004', { username: 'www-data' }],
    ['', { username: '' }],
    [undefined, { username: '' }],
  ])('reads %j as the CRI expects', (user, expected) => {
    expect(userOfImage(user)).toEqual(expected);
  });
});
