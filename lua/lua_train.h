/* lua/lua_train.h — the training functions of the `nsim` table: nsim.train, nsim.compare and
 * nsim.training_data. */
#ifndef NS_LUA_TRAIN_H
#define NS_LUA_TRAIN_H

#include <lua.h>

/* Add nsim.train, nsim.compare and nsim.training_data to the table on the top of the stack. */
void ns_lua_open_train(lua_State *L);

#endif
